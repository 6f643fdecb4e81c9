"""The seam between the collab WebSocket protocols (Hocuspocus, y-websocket) and the documents.

The wire layers know framing, authentication flow, keep-alives and limits; they ask a
`CollabApplication` whether a connection may open a document and then exchange
y-websocket-style frames with it (a type byte, 0 sync or 1 awareness or 3 query-awareness,
then the payload), which is exactly what pycrdt's sync and awareness helpers read and write.
The collab session actor implements the documents; the wire layers never see a Doc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from api.core.live_sessions import Login


@dataclass(frozen=True)
class Grant:
    """Who opened a document and what they may do with it; the login whose end withdraws it."""

    user_id: int
    scope: Literal["read-write", "readonly"] = "read-write"
    login: Login | None = None


class Denied(Exception):
    """The application refuses the connection; the reason goes to the client (permission denied)."""

    def __init__(self, reason: str = "permission-denied") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Handled:
    """What one client frame produced: frames for this connection only, and whether a sync
    step 2 or update was applied (True), refused (False) or was no such frame (None). A
    document that refuses a frame it had already answered ends the link's feed with an error
    (`listen`), which resets the connection."""

    replies: tuple[bytes, ...] = ()
    applied: bool | None = None


class DocumentLink(Protocol):
    """One connection's attachment to one document."""

    async def handle(self, frame: bytes) -> Handled:
        """A client frame (y-websocket form: type byte + payload)."""

    def handle_now(self, frame: bytes) -> Handled | None:
        """`handle` in the caller's step, for a frame the link can take without waiting (an
        update or awareness change to relay, with room to queue it); None: await `handle`."""

    def listen(self, deliver: Callable[[bytes], None], ended: Callable[[Exception | None], None]) -> None:
        """Called once: from now on, pass every frame broadcast to the document's connections
        (updates, awareness) to `deliver`, in order, first those already waiting (the current
        awareness); then `ended(None)` once the document is closed for good (the session ended),
        or `ended(error)` when the feed broke, `ended(Denied(...))` when the grant was withdrawn
        (the login ended). Both are called in the event loop and must not wait."""

    async def close(self) -> None:
        """The connection left this document: its awareness states are removed for the others."""


class CollabApplication(Protocol):
    def trusts_cookies_from(self, origin: str | None, host: str | None) -> bool:
        """Whether a socket opened from `origin` (None: no Origin header, not a browser) to `host`
        (its Host header) may authenticate with the access-token cookie alone; a page of another
        origin must not ride a user's cookie."""

    async def authorize(self, document: str, token: str | None) -> Grant:
        """`token` is the JWT from the Auth message, the `?token=` query or the access cookie. Raises Denied."""

    async def open(self, grant: Grant, document: str) -> DocumentLink:
        """Attach a connection to the document; the link's first frames may be the current awareness."""
