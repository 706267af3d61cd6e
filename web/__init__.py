"""The browser app: templates and static files served by the FastAPI app."""
