"""The batch wire format: plain pickle, cloudpickle where pickle cannot, one bad reply alone."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from actors.host import Envelope, Reply
from actors.hosting.wire import UnsendableReply, WireError, pack, pack_replies, unpack
from tests.actors.kinds import Increment, UnreadableAnswer


def test_a_batch_of_envelopes_comes_back_equal():
    batch = [Envelope(f"counter:{index}", Increment()) for index in range(3)]
    assert unpack(pack(batch)) == batch


def test_what_plain_pickle_refuses_goes_by_cloudpickle():
    @dataclass(frozen=True)
    class LocalMessage:  # a class defined in a function: plain pickle cannot find it by name
        text: str

    [envelope] = unpack(pack([Envelope("counter:a", LocalMessage("hi"))]))
    assert envelope.actor_id == "counter:a" and envelope.message.text == "hi"


def test_an_unpicklable_reply_fails_alone_and_says_why():
    replies = unpack(pack_replies([Reply(value=1), Reply(value=threading.Lock()), None, Reply(error=KeyError("k"))]))
    assert replies[0] == Reply(value=1) and replies[2] is None
    assert isinstance(replies[3].error, KeyError)
    assert isinstance(replies[1].error, UnsendableReply)
    assert "answer could not be sent" in str(replies[1].error) and "lock" in str(replies[1].error)


def test_a_payload_that_cannot_be_read_raises_wire_error():
    with pytest.raises(WireError, match="this answer cannot be read"):
        unpack(pack([Reply(value=UnreadableAnswer())]))
