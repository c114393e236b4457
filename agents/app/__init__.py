"""What the Streamlit pages call: cached resources, workbench, documents, monitoring."""
