"""Why a room said no, by kind; the API maps kinds to status codes, the messages are the seed's."""

from __future__ import annotations


class ContestError(Exception):
    """A broken contest rule. `str(error)` is the seed's message, word for word."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RoomNotFound(ContestError):
    def __init__(self, message: str = "Room not found") -> None:
        super().__init__(message)


class NotAllowed(ContestError):
    """The caller is known but may not do this (not the host, not in the room, wrong password)."""


class Conflict(ContestError):
    """The room's or the user's state is in the way (full, already in this or another room)."""


class RuleBroken(ContestError):
    """The request breaks a contest rule (not started, already finished, invalid problem)."""


class RateLimited(ContestError):
    def __init__(self, retry_after: float, message: str = "Too many submissions. Please slow down.") -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self):
        return (RateLimited, (self.retry_after, self.message))


class Unavailable(ContestError):
    """The room cannot take this now (the judge's queue is full); the client may retry."""

    def __init__(self, message: str, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self):
        return (Unavailable, (self.message, self.retry_after))


class AlreadyInAnotherRoom(Exception):
    """Raised by a room store when the user already holds a WAITING or ACTIVE room."""
