"""The front process's machinery, no feature in it: the uvicorn server and its socket fast
path, ASGI middleware, logging with request ids, the front's own metrics, malloc tuning."""
