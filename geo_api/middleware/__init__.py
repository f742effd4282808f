"""The HTTP layer around every route: compression, CORS, body limits, charsets, caching, headers."""
