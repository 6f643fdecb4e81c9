"""STOMP frames: the model, the encoder and an incremental parser of a byte stream.

Over WebSocket (or SockJS) a frame may span several messages and one message may hold several
frames, so the parser keeps whatever it has not consumed yet. Bare EOLs between frames are
heart-beats and are skipped. Header escaping depends on the negotiated version (1.0 has none,
1.1 lacks `\\r`) and never applies to CONNECT, STOMP and CONNECTED frames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED_VERSIONS = ("1.2", "1.1", "1.0")
UNESCAPED_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})

_ENCODE_TABLES = {
    "1.2": str.maketrans({"\\": "\\\\", "\r": "\\r", "\n": "\\n", ":": "\\c"}),
    "1.1": str.maketrans({"\\": "\\\\", "\n": "\\n", ":": "\\c"}),
}
_DECODE_TABLES = {
    "1.2": {"\\": "\\", "r": "\r", "n": "\n", "c": ":"},
    "1.1": {"\\": "\\", "n": "\n", "c": ":"},
}
_ESCAPE_SEQUENCE = re.compile(r"\\(.?)", re.DOTALL)


class StompProtocolError(Exception):
    """The peer broke the STOMP framing rules or a parser limit; the connection cannot go on."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One STOMP frame. `headers` keeps every header line in order; a repeated name's first value wins."""

    command: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def escapes_headers(command: str, version: str) -> bool:
    return version in _ENCODE_TABLES and command not in UNESCAPED_COMMANDS


def encode_frame(frame: Frame, version: str = "1.2") -> bytes:
    """The frame's bytes: LF line ends, `content-length` added for a non-empty body, then NUL.

    Raises ValueError for a header that cannot be written (a line break without escaping).
    """
    table = _ENCODE_TABLES.get(version) if escapes_headers(frame.command, version) else None
    lines = [frame.command]
    for name, value in frame.headers:
        if table is not None:
            lines.append(f"{name.translate(table)}:{value.translate(table)}")
            continue
        if "\n" in name or "\r" in name or ":" in name or "\n" in value or "\r" in value:
            raise ValueError(f"header {name!r} cannot be written unescaped")
        lines.append(f"{name}:{value}")
    if frame.body and frame.header("content-length") is None:
        lines.append(f"content-length:{len(frame.body)}")
    return "\n".join(lines).encode("utf-8") + b"\n\n" + frame.body + b"\x00"


def _unescape(text: str, table: dict[str, str]) -> str:
    if "\\" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        try:
            return table[match.group(1)]
        except KeyError:
            raise StompProtocolError(f"Invalid escape sequence {match.group(0)!r} in a header") from None

    return _ESCAPE_SEQUENCE.sub(replace, text)


@dataclass(frozen=True)
class ParserLimits:
    max_frame_bytes: int = 64 * 1024
    max_headers: int = 32
    max_header_line_bytes: int = 8 * 1024


class FrameParser:
    """Turns a stream of bytes into frames: `feed(data)`, then `next_frame()` until it returns None.

    `version` selects the header unescaping of the frames still to be parsed; the session sets
    it as soon as it has seen CONNECT. After a StompProtocolError the parser stays failed.
    """

    def __init__(self, limits: ParserLimits | None = None, version: str = "1.2") -> None:
        self.limits = limits or ParserLimits()
        self.version = version
        self._buffer = bytearray()
        self._failure: StompProtocolError | None = None
        self._start_frame()

    def _start_frame(self) -> None:
        self._in_frame = False
        self._scan = 0
        self._lines: list[bytes] = []
        self._head: tuple[str, tuple[tuple[str, str], ...]] | None = None
        self._body_start = 0
        self._content_length: int | None = None

    def feed(self, data: bytes) -> None:
        if self._failure is None:
            self._buffer += data

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes arrive. Raises StompProtocolError."""
        if self._failure is not None:
            raise self._failure
        try:
            return self._next_frame()
        except StompProtocolError as failure:
            self._failure = failure
            self._buffer.clear()
            raise

    def _next_frame(self) -> Frame | None:
        buffer = self._buffer
        if not self._in_frame:
            heartbeats = 0
            while heartbeats < len(buffer) and buffer[heartbeats] in b"\r\n":
                heartbeats += 1
            del buffer[:heartbeats]
            if not buffer:
                return None
            self._in_frame = True
        if self._head is None and not self._read_head():
            return None
        return self._read_body()

    def _read_head(self) -> bool:
        """Collects the command and header lines up to the blank line; False while incomplete."""
        buffer, limits = self._buffer, self.limits
        while True:
            end = buffer.find(b"\n", self._scan)
            if end == -1:
                if len(buffer) - self._scan > limits.max_header_line_bytes:
                    raise StompProtocolError(f"Header line longer than {limits.max_header_line_bytes} bytes")
                self._check_frame_size(len(buffer))
                return False
            line = bytes(buffer[self._scan : end])
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > limits.max_header_line_bytes:
                raise StompProtocolError(f"Header line longer than {limits.max_header_line_bytes} bytes")
            self._scan = end + 1
            if line:
                self._lines.append(line)
                if len(self._lines) > limits.max_headers + 1:
                    raise StompProtocolError(f"More than {limits.max_headers} headers in a frame")
                continue
            self._body_start = self._scan
            self._head = self._decode_head()
            return True

    def _read_body(self) -> Frame | None:
        buffer = self._buffer
        if self._content_length is not None:
            end = self._body_start + self._content_length
            self._check_frame_size(end + 1)
            if len(buffer) <= end:
                return None
            if buffer[end] != 0:
                raise StompProtocolError("Frame body is not followed by NUL after content-length bytes")
        else:
            end = buffer.find(b"\x00", self._scan)
            if end == -1:
                self._scan = len(buffer)
                self._check_frame_size(len(buffer))
                return None
            self._check_frame_size(end + 1)
        assert self._head is not None
        command, headers = self._head
        frame = Frame(command, headers, bytes(buffer[self._body_start : end]))
        del buffer[: end + 1]
        self._start_frame()
        return frame

    def _check_frame_size(self, size: int) -> None:
        if size > self.limits.max_frame_bytes:
            raise StompProtocolError(f"Frame larger than {self.limits.max_frame_bytes} bytes")

    def _decode_head(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        try:
            command = self._lines[0].decode("utf-8")
            lines = [line.decode("utf-8") for line in self._lines[1:]]
        except UnicodeDecodeError:
            raise StompProtocolError("Frame head is not valid UTF-8") from None
        table = _DECODE_TABLES.get(self.version) if escapes_headers(command, self.version) else None
        headers = []
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise StompProtocolError(f"Header line without ':' in a {command} frame")
            if table is not None:
                name, value = _unescape(name, table), _unescape(value, table)
            headers.append((name, value))
        frame_headers = tuple(headers)
        declared = Frame(command, frame_headers).header("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                raise StompProtocolError(f"Invalid content-length {declared!r}")
            self._content_length = int(declared)
        return command, frame_headers
