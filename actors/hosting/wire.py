"""How a batch crosses a Ray call: pickled once, here, so that Ray carries one `bytes`.

Ray serializes a list argument object by object (msgpack, with a cloudpickle call for each
object msgpack does not know), and deserializes it the same way on the other side: several
times the cost of one `pickle.dumps` of the whole list, paid on the front's event-loop thread
and in the host, once per batch each way (`scripts/bench batching`).

Plain pickle handles every message and reply of this server (module-level dataclasses,
exceptions); cloudpickle, which Ray uses anyway, takes what it cannot (say, a class defined
in a test function), and `pickle.loads` reads both. Front and hosts trust each other
exactly as much as Ray's own pickled calls between them already require.
"""

from __future__ import annotations

import pickle
from typing import Any

from ray import cloudpickle

from actors.host import Reply

PROTOCOL = 5


def pack(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return cloudpickle.dumps(value, protocol=PROTOCOL)


class WireError(Exception):
    """A payload from the other side of a call could not be read."""


def unpack(payload: bytes) -> Any:
    try:
        return pickle.loads(payload)
    except Exception as error:  # unpickling runs arbitrary reducers: any error means unreadable
        raise WireError(f"{type(error).__name__}: {error}") from error


def unpicklable(values: list[Any]) -> dict[int, Exception]:
    """The items of `values` that cannot be pickled, by index, with what pickling raised:
    how a batch that cannot be packed whole finds its culprits."""
    found = {}
    for index, value in enumerate(values):
        try:
            pack(value)
        except Exception as error:  # whatever pickling raised is the answer
            found[index] = error
    return found


class UnsendableReply(Exception):
    """An actor answered with something that cannot be pickled."""


def pack_replies(replies: list[Reply | None]) -> bytes:
    """Pack a batch's replies; a reply that cannot be pickled becomes an `UnsendableReply`
    error for that one message, not a failed batch."""
    try:
        return pack(replies)
    except Exception:  # any pickling failure: find the culprits
        culprits = unpicklable(replies)
    replies = list(replies)
    for index, error in culprits.items():
        replies[index] = _unsendable(replies[index], error)
    return pack(replies)


def _unsendable(reply: Reply, error: Exception) -> Reply:
    what = "error" if reply.error is not None else "answer"
    return Reply(error=UnsendableReply(f"the actor's {what} could not be sent: {type(error).__name__}: {error}"))
