"""Log format of the server: every line carries the id of the request it belongs to.

`text` is one human-readable line per record; `json` is one JSON object per line with
`time` (ISO 8601, UTC), `level`, `logger`, `message`, `request_id`, any `extra=` fields,
and `exc_info` for a traceback. In `json`, uvicorn's own loggers go through the same handler.

No line carries a secret: every handler redacts, in the formatted message, the values of
query parameters whose name says token, password, secret, key, code, auth, session or state
(uvicorn logs a WebSocket's path with its query: `?token=eyJ…`), `Authorization`/`Cookie`
header values, bearer credentials and anything shaped as a JWT.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from api.server.request_context import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
REDACTED = "[redacted]"
_SECRET_NAME = r"[\w.-]*(?:token|password|passwd|secret|key|code|auth|jwt|session|signature|state)[\w.-]*"
_SECRET_HEADER = r"\b((?:proxy-)?authorization|(?:set-)?cookie|x-auth-token)(['\"]?\s*[:=,]\s*['\"]?)[^\r\n'\"]*"
_REDACTIONS = (
    (re.compile(rf"([?&;]{_SECRET_NAME}=)[^&#\s\"']*", re.IGNORECASE), rf"\g<1>{REDACTED}"),
    (re.compile(_SECRET_HEADER, re.IGNORECASE), rf"\g<1>\g<2>{REDACTED}"),
    (re.compile(r"\b(bearer|basic)\s+[\w.~+/=-]+", re.IGNORECASE), rf"\g<1> {REDACTED}"),
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
)


def redact(text: str) -> str:
    """`text` with the secrets it may carry replaced by `[redacted]`."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class _RedactFilter(logging.Filter):
    """Redacts the record's message once it is formatted with its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


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
    # uvicorn's own handlers (text format) print its lines, a socket's query string among them.
    for name in UVICORN_LOGGERS:
        for uvicorn_handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, _RedactFilter) for f in uvicorn_handler.filters):
                uvicorn_handler.addFilter(_RedactFilter())
    handler.addFilter(_RedactFilter())
