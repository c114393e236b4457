"""Answering a question: the pipeline, routing and the answer's composition."""
