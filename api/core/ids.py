"""Database ids as the API accepts them: one range, one parser, for every route.

The id columns are SQL `INTEGER` (32 bits in PostgreSQL), so an id outside 1..2^31-1 can name
no row; it is refused as bad input (400 `{"error"}`, the status of every malformed parameter)
before it reaches SQL, where PostgreSQL overflows and SQLite's driver raises (both a 500).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.core.errors import bad_request

MAX_ID = 2**31 - 1

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id path, query or body field; FastAPI and pydantic check the range."""


def as_id(raw: str) -> int | None:
    """The id a string spells (ASCII digits only: `str.isdigit` also passes `"²"`), or None."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def parse_id(raw: str, what: str = "Id") -> int:
    """An id that travels as a string (`"42"`, as the PeerPrep routes send user ids), or a 400."""
    value = as_id(raw)
    if value is None:
        raise bad_request(f"{what} must be an integer from 1 to {MAX_ID}")
    return value
