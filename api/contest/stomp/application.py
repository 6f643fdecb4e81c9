"""The seam between the STOMP broker and what it serves.

The wire layers (SockJS framing, STOMP frames, heart-beats, limits) know nothing of rooms;
they ask a `StompApplication` who a connection is and what a destination streams. The
contest implements it for `/topic/room/{id}` and `/topic/room/{id}/events`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Login(Protocol):
    """The login a connection's token belongs to (api.core.live_sessions.Login)."""

    def on_end(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` when the login ends (logout); returns what stops that."""


@dataclass(frozen=True)
class Principal:
    """Who is on a connection: a user id from a verified JWT, or None for an anonymous client;
    and the login the token belongs to, whose end closes the connection."""

    user_id: int | None = None
    login: Login | None = None


class Refused(Exception):
    """The application says no; the broker sends an ERROR frame with this message and closes."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Timed:
    """A message body whose writing to the socket the feed wants to hear of (`written` is called
    right after the transport took the frame): how the contest times its pushes."""

    body: str
    written: Callable[[], None]


class Feed(Protocol):
    """What one SUBSCRIBE receives: JSON bodies, in order, until closed."""

    async def next(self) -> str | Timed | None:
        """The next message body (JSON text), or None once the feed has ended for good."""

    def close(self) -> None:
        """The client unsubscribed or went away; release what the feed holds."""


class StompApplication(Protocol):
    async def authenticate(self, token: str | None) -> Principal:
        """`token` is the JWT from the CONNECT header or `?token=`; None when absent. Raises Refused."""

    async def subscribe(self, principal: Principal, destination: str) -> Feed:
        """A feed for `destination`, whose first messages may be the current state. Raises Refused."""
