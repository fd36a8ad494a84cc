"""The HTTP API: a thin FastAPI layer over the stage packages."""
