"""Data answers: the offline planner, the LLM writer, verified queries, the executor."""
