"""Caps on the connections one client holds at once: per IP address and per user.

A socket or stream costs the front memory and an event-bus subscription for as long as it is
open, so one client must not hold thousands. `ConnectionCaps.acquire` takes a slot for a new
connection, or gives a refused slot naming the cap it would pass; a slot is given back when
its connection ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable


class Slot:
    """One connection's place under its caps; `release` (idempotent) gives it back. A refused
    slot (`refusal` is the reason) holds nothing."""

    __slots__ = ("_caps", "_keys", "refusal")

    def __init__(self, caps: ConnectionCaps, keys: tuple[Hashable, ...], refusal: str | None = None) -> None:
        self._caps = caps
        self._keys: tuple[Hashable, ...] | None = keys
        self.refusal = refusal

    def release(self) -> None:
        if self._keys is not None:
            self._caps._release(self._keys)
            self._keys = None


class ConnectionCaps:
    def __init__(self, per_ip: int, per_user: int, what: str = "connections") -> None:
        self.per_ip = per_ip
        self.per_user = per_user
        self.what = what
        self._open: Counter[Hashable] = Counter()

    def acquire(self, ip: str | None, user: int | None) -> Slot:
        """A slot for a connection from `ip` by `user` (None: unknown)."""
        keys: list[Hashable] = []
        if ip is not None:
            if self._open["ip", ip] >= self.per_ip:
                return Slot(self, (), f"Too many open {self.what} from this address (at most {self.per_ip})")
            keys.append(("ip", ip))
        if user is not None:
            if self._open["user", user] >= self.per_user:
                return Slot(self, (), f"Too many open {self.what} for this user (at most {self.per_user})")
            keys.append(("user", user))
        for key in keys:
            self._open[key] += 1
        return Slot(self, tuple(keys))

    def open_count(self, *, ip: str | None = None, user: int | None = None) -> int:
        return self._open["ip", ip] if ip is not None else self._open["user", user]

    def _release(self, keys: tuple[Hashable, ...]) -> None:
        for key in keys:
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]
