"""HTTP and CLI faces of wangge: the FastAPI app and the `wangge` command."""
