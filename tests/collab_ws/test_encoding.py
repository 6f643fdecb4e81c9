"""lib0 primitives, the y-websocket frame check and the Hocuspocus frames, against the protocols reference."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Encoder, Text, create_awareness_message, create_sync_message, create_update_message

from api.collab.ws.encoding import (
    EMPTY_AWARENESS,
    DecodeError,
    MessageType,
    Reader,
    authenticated,
    close_document,
    permission_denied,
    read_y_frame,
    sync_status,
    write_var_string,
    write_var_uint8_array,
    ywebsocket_permission_denied,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (2**53 - 1, "ffffffffffffff0f")],
)
def test_var_uint_reads_what_lib0_writes(value, encoded):
    reader = Reader(bytes.fromhex(encoded))
    assert reader.read_var_uint() == value
    assert reader.remaining == 0


@pytest.mark.parametrize(
    "encoded", ["", "80", "ff ff", "ff ff ff ff ff ff ff ff 01", "80 80 80 80 80 80 80 80 80 80 00"]
)
def test_var_uint_refuses_truncated_or_out_of_range_numbers(encoded):
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex(encoded)).read_var_uint()


def test_var_string_counts_utf8_bytes_where_pycrdt_counts_characters():
    assert write_var_string("sess-é") == b"\x07sess-\xc3\xa9"
    pycrdt = Encoder()
    pycrdt.write_var_string("sess-é")
    assert pycrdt.to_bytes()[0] == 6  # why encoding.py writes its own
    assert Reader(write_var_string("Zoë ✓ 🙂")).read_var_string() == "Zoë ✓ 🙂"


@pytest.mark.parametrize(("encoded", "problem"), [("05 61 62", "truncated"), ("02 c3 28", "not UTF-8")])
def test_var_string_refuses_truncated_or_invalid_text(encoded, problem):
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex(encoded)).read_var_string()


def test_the_observed_auth_frame_decodes():
    reader = Reader(bytes.fromhex("06 73 65 73 73 2d 31 02 00 04 67 6f 6f 64 05 34 2e 38 2e 30"))
    assert reader.read_var_string() == "sess-1"
    assert reader.read_var_uint() == MessageType.AUTH
    assert reader.read_var_uint() == 0
    assert reader.read_var_string() == "good"
    assert reader.read_var_string() == "4.8.0"
    reader.expect_end()


def test_pycrdt_frames_pass_the_check_unchanged():
    doc = Doc()
    text = doc.get("code", type=Text)
    updates = []
    doc.observe(lambda event: updates.append(event.update))
    text.insert(0, "print('hé')")
    frames = [
        create_sync_message(doc),
        bytes.fromhex("00 00 01 00"),  # step 1 of an empty doc
        bytes.fromhex("00 01 02 00 00"),  # step 2 of an empty doc
        create_update_message(updates[0]),
        create_awareness_message(bytes.fromhex("01 0a 01") + write_var_string('{"name":"Zoë"}')),
        EMPTY_AWARENESS,
        bytes([MessageType.QUERY_AWARENESS]),
    ]
    for frame in frames:
        checked = read_y_frame(Reader(frame))
        assert checked is not None
        assert (checked.type, checked.data) == (frame[0], frame)


def test_a_frame_after_an_address_is_checked_from_the_reader_position():
    frame = write_var_string("sess-1") + bytes.fromhex("00 00 01 00")
    reader = Reader(frame)
    reader.read_var_string()
    checked = read_y_frame(reader)
    assert checked is not None and checked.data == bytes.fromhex("00 00 01 00")


def test_long_varuint_type_and_subtype_are_rewritten_as_single_bytes():
    checked = read_y_frame(Reader(bytes.fromhex("80 00 81 00 01 00")))
    assert checked is not None and checked.data == bytes.fromhex("00 01 01 00")
    checked = read_y_frame(Reader(bytes.fromhex("81 00 01 00")))
    assert checked is not None and checked.data == bytes.fromhex("01 01 00")


@pytest.mark.parametrize("kind", [2, 4, 5, 7, 8, 9, 10, 11, 200])
def test_types_the_application_does_not_take_are_not_frames(kind):
    assert read_y_frame(Reader(bytes([kind]) + b"\x00")) is None


@pytest.mark.parametrize(
    "encoded",
    [
        "00",  # sync without subtype
        "00 03 01 00",  # unknown sync subtype
        "00 00 05 00",  # state vector longer than the frame
        "00 02 01 00 ff",  # bytes after the update
        "01",  # awareness without its update
        "01 03 01 0a 01",  # an entry without its state
        "01 02 00 00",  # bytes after the entries
        "03 00",  # query awareness with a payload
    ],
)
def test_malformed_envelopes_are_refused(encoded):
    with pytest.raises(DecodeError):
        read_y_frame(Reader(bytes.fromhex(encoded)))


def test_hocuspocus_frames_as_the_provider_reads_them():
    prefix = write_var_string("sess-1")
    assert authenticated(prefix, "read-write") == prefix + b"\x02\x02\x0aread-write"
    assert permission_denied(prefix, "nö") == prefix + b"\x02\x01\x03n\xc3\xb6"
    assert sync_status(prefix, True) == prefix + b"\x08\x01"
    assert sync_status(prefix, False) == prefix + b"\x08\x00"
    assert close_document(prefix, "provider_initiated") == prefix + b"\x07\x12provider_initiated"


def test_y_websocket_frames():
    assert EMPTY_AWARENESS == bytes.fromhex("01 01 00")
    assert ywebsocket_permission_denied("nope") == bytes.fromhex("02 00 04") + b"nope"
    assert write_var_uint8_array(b"\x01\x02") == b"\x02\x01\x02"
