"""Which page origins may open a socket or stream here, and which a CORS answer may name.

Browsers send `Origin` on every WebSocket handshake and cross-origin request, and send the
user's cookies with them whatever the origin, so a page on another site could ride a
victim's session through a socket. A request is allowed when it carries no `Origin` (not a
browser: the Node clients, curl), when its origin is one of the frontend's (`FRONTEND_URL`)
or this server's own (the `Host` it was sent to), or when it is `null` (a page opened from a
file, a sandboxed frame) and carries no cookie: such a page can only be authenticated by a
token it was given, never by the user's cookie.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

NULL_ORIGIN = "null"


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]` as browsers send it: lower case, no trailing slash."""
    return origin.strip().rstrip("/").lower()


class OriginPolicy:
    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(normalize_origin(origin) for origin in allowed)

    def allows(self, origin: str | None, host: str | None, credentials: bool) -> bool:
        """Whether a request from `origin` (None: no Origin header) to `host` (its Host header),
        carrying a cookie when `credentials`, may be served."""
        if origin is None:
            return True
        origin = normalize_origin(origin)
        if origin == NULL_ORIGIN:
            return not credentials
        if origin in self.allowed:
            return True
        return host is not None and urlsplit(origin).netloc == host.lower()

    def allows_request(self, headers: Mapping[str, str]) -> bool:
        """`allows` for a request's headers (Starlette's, or any mapping with lower-case names)."""
        return self.allows(headers.get("origin"), headers.get("host"), credentials="cookie" in headers)
