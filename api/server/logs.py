"""Log format of the server: every line carries the id of the request it belongs to.

`text` is one human-readable line per record; `json` is one JSON object per line with
`time` (ISO 8601, UTC), `level`, `logger`, `message`, `request_id`, any `extra=` fields,
and `exc_info` for a traceback. In `json`, uvicorn's own loggers go through the same handler.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from api.server.request_context import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class _RequestIdFilter(logging.Filter):
    """The request being served; a record logged with `extra={"request_id": ...}` keeps its own
    (the 500 handler runs after the request's context is gone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if log_format == "json":
        for name in UVICORN_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
