"""Document answers: ingestion, loaders, retrieval and the embedders."""
