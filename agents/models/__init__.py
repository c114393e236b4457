"""Model providers (any OpenAI-compatible endpoint) and versioned prompts."""
