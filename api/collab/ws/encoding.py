"""lib0 encoding as Yjs, y-protocols and Hocuspocus write it, and the message types of both protocols.

varUint: 7 bits per byte, low group first, 0x80 = more follows. varUint8Array: varUint length +
bytes. varString: varUint *UTF-8 byte* length + bytes (pycrdt's `Encoder.write_var_string` writes
the character count, which lib0 cannot decode for non-ASCII text, so it is not used here).
pycrdt's `Decoder` does not check bounds; `Reader` does, so a truncated frame is a `DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pycrdt import create_awareness_message, write_message, write_var_uint

# lib0 reads varUints up to Number.MAX_SAFE_INTEGER.
MAX_VAR_UINT = 2**53 - 1


class MessageType(IntEnum):
    """Hocuspocus message types; 0, 1 and 3 are also y-websocket's, and 2 is y-websocket's auth."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    SYNC_REPLY = 4
    STATELESS = 5
    BROADCAST_STATELESS = 6
    CLOSE = 7
    SYNC_STATUS = 8
    PING = 9
    PONG = 10


class AuthMessageType(IntEnum):
    """Hocuspocus Auth subtypes. y-websocket's auth frame numbers permission denied 0 instead."""

    TOKEN = 0
    PERMISSION_DENIED = 1
    AUTHENTICATED = 2


class SyncMessageType(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


# The message types a y-websocket-form frame handed to the application may have.
DOCUMENT_TYPES = frozenset({MessageType.SYNC, MessageType.AWARENESS, MessageType.QUERY_AWARENESS})

PING = bytes([MessageType.PING])
PONG = bytes([MessageType.PONG])
# An awareness update with no entries: y-protocols applies it without any change or event.
EMPTY_AWARENESS = create_awareness_message(write_var_uint(0))


class DecodeError(ValueError):
    """The bytes are not what the protocol allows here."""


def write_var_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return write_var_uint(len(data)) + data


def write_var_uint8_array(data: bytes) -> bytes:
    return write_message(data)


class Reader:
    """Reads lib0 values from `data`, checking every length against what is left."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def read_var_uint(self) -> int:
        value = 0
        shift = 0
        while True:
            if self.offset >= len(self.data):
                raise DecodeError("truncated varUint")
            byte = self.data[self.offset]
            self.offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if value > MAX_VAR_UINT or shift > 63:
                raise DecodeError("varUint out of range")
            if byte < 0x80:
                return value

    def read_var_uint8_array(self) -> bytes:
        length = self.read_var_uint()
        if length > self.remaining:
            raise DecodeError(f"varUint8Array of {length} bytes with {self.remaining} left")
        start = self.offset
        self.offset += length
        return self.data[start : self.offset]

    def read_var_string(self) -> str:
        try:
            return self.read_var_uint8_array().decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("varString is not UTF-8") from None

    def expect_end(self) -> None:
        if self.remaining:
            raise DecodeError(f"{self.remaining} unexpected bytes at the end")


def check_awareness_update(update: bytes) -> None:
    """An awareness update: varUint count, then per client varUint id, varUint clock, varString state."""
    reader = Reader(update)
    for _ in range(reader.read_var_uint()):
        reader.read_var_uint()
        reader.read_var_uint()
        reader.read_var_string()
    reader.expect_end()


@dataclass(frozen=True)
class YFrame:
    """A y-websocket-form frame (type byte, payload) as the application reads it."""

    type: int
    data: bytes


def read_y_frame(reader: Reader) -> YFrame | None:
    """The frame from the reader's position to the end; None for a type the application does not take.

    The envelope is checked (sync subtype, lengths, awareness entries), not the Yjs update inside.
    pycrdt reads the type and the sync subtype as single bytes: a longer (non-canonical) varUint
    encoding of either is rewritten to one byte.
    """
    start = reader.offset
    kind = reader.read_var_uint()
    if kind not in DOCUMENT_TYPES:
        return None
    head = reader.offset
    if kind == MessageType.SYNC:
        subtype = reader.read_var_uint()
        if subtype > SyncMessageType.UPDATE:
            raise DecodeError(f"unknown sync message type {subtype}")
        body = reader.offset
        reader.read_var_uint8_array()
        reader.expect_end()
        if body - start == 2:
            return YFrame(kind, reader.data[start:])
        return YFrame(kind, bytes([kind, subtype]) + reader.data[body:])
    if kind == MessageType.AWARENESS:
        check_awareness_update(reader.read_var_uint8_array())
    reader.expect_end()
    if head - start == 1:
        return YFrame(kind, reader.data[start:])
    return YFrame(kind, bytes([kind]) + reader.data[head:])


# Hocuspocus: every frame but Ping/Pong starts with varString(address); `prefix` is that encoded address.


def authenticated(prefix: bytes, scope: str) -> bytes:
    return prefix + bytes([MessageType.AUTH, AuthMessageType.AUTHENTICATED]) + write_var_string(scope)


def permission_denied(prefix: bytes, reason: str) -> bytes:
    return prefix + bytes([MessageType.AUTH, AuthMessageType.PERMISSION_DENIED]) + write_var_string(reason)


def sync_status(prefix: bytes, applied: bool) -> bytes:
    return prefix + bytes([MessageType.SYNC_STATUS, 1 if applied else 0])


def close_document(prefix: bytes, reason: str) -> bytes:
    return prefix + bytes([MessageType.CLOSE]) + write_var_string(reason)


# y-websocket: y-protocols' auth message, whose only subtype is 0 = permission denied.


def ywebsocket_permission_denied(reason: str) -> bytes:
    return bytes([MessageType.AUTH, 0]) + write_var_string(reason)
