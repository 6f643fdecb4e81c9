"""Room refusals become HTTP errors: the seed's words, the status by kind, Retry-After where due."""

from __future__ import annotations

import pytest

from actors.contest.errors import Conflict, NotAllowed, RateLimited, RoomNotFound, RuleBroken, Unavailable
from api.contest.rooms import as_api_error


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (RoomNotFound(), 404, None),
        (NotAllowed("Wrong Password"), 403, None),
        (Conflict("Room is full"), 409, None),
        (RuleBroken("Contest not active"), 400, None),
        (RateLimited(4.2), 429, "5"),
        (RateLimited(0.01), 429, "1"),
        (Unavailable("The judge is busy. Please retry shortly.", retry_after=5), 503, "5"),
    ],
)
def test_each_kind_of_refusal_has_its_status(error, status, retry_after):
    mapped = as_api_error(error)
    assert (mapped.status, mapped.message) == (status, error.message)
    assert (mapped.headers or {}).get("Retry-After") == retry_after
