"""STOMP frames on the wire: the encoder and the incremental parser, byte for byte."""

from __future__ import annotations

import pytest

from api.contest.stomp.frames import Frame, FrameParser, ParserLimits, StompProtocolError, encode_frame

MESSAGE = Frame(
    "MESSAGE",
    (
        ("subscription", "sub-0"),
        ("message-id", "m-1"),
        ("destination", "/topic/room/1"),
        ("content-type", "application/json"),
    ),
    '{"hello":"wörld"}'.encode(),
)


def parse(*chunks: bytes, parser: FrameParser | None = None) -> list[Frame]:
    parser = parser or FrameParser()
    frames = []
    for chunk in chunks:
        parser.feed(chunk)
        while (frame := parser.next_frame()) is not None:
            frames.append(frame)
    return frames


def test_message_is_encoded_as_stompjs_observed_it():
    assert encode_frame(MESSAGE) == (
        b"MESSAGE\nsubscription:sub-0\nmessage-id:m-1\ndestination:/topic/room/1\n"
        b"content-type:application/json\ncontent-length:18\n\n" + '{"hello":"wörld"}'.encode() + b"\x00"
    )


def test_a_frame_without_body_has_no_content_length():
    assert encode_frame(Frame("RECEIPT", (("receipt-id", "close-1"),))) == b"RECEIPT\nreceipt-id:close-1\n\n\x00"


def test_headers_are_escaped_per_version_but_never_in_connected():
    frame = Frame("MESSAGE", (("destination", "a:b\nc\\d\re"),))
    assert b"destination:a\\cb\\nc\\\\d\\re\n" in encode_frame(frame, "1.2")
    assert b"destination:a\\cb\\nc\\\\d\re\n" in encode_frame(frame, "1.1")
    connected = Frame("CONNECTED", (("server", "peerprep/0.1:x"),))
    assert encode_frame(connected, "1.2") == b"CONNECTED\nserver:peerprep/0.1:x\n\n\x00"


def test_a_line_break_that_cannot_be_escaped_is_refused():
    with pytest.raises(ValueError):
        encode_frame(Frame("ERROR", (("message", "two\nlines"),)), "1.0")


def test_a_frame_fed_one_byte_at_a_time_comes_out_whole():
    data = encode_frame(MESSAGE)
    parser = FrameParser()
    frames = []
    for index in range(len(data)):
        frames += parse(data[index : index + 1], parser=parser)
    assert frames == [Frame(MESSAGE.command, (*MESSAGE.headers, ("content-length", "18")), MESSAGE.body)]


def test_several_frames_and_heartbeats_in_one_chunk():
    chunk = b"\n\r\nSUBSCRIBE\nid:0\ndestination:/a\n\n\x00\n\nUNSUBSCRIBE\nid:0\n\n\x00\r\n"
    frames = parse(chunk)
    assert [(frame.command, frame.header("id")) for frame in frames] == [("SUBSCRIBE", "0"), ("UNSUBSCRIBE", "0")]


def test_heartbeats_alone_produce_no_frame():
    assert parse(b"\n", b"\r\n", b"\n\n") == []


def test_crlf_line_ends_are_accepted():
    [frame] = parse(b"SEND\r\ndestination:/a\r\ncontent-length:2\r\n\r\nhi\x00")
    assert frame.header("destination") == "/a"
    assert frame.body == b"hi"


def test_content_length_counts_utf8_bytes_and_allows_nul_in_the_body():
    body = "wörld\x00ok".encode()
    data = b"SEND\ndestination:/a\ncontent-length:%d\n\n" % len(body) + body + b"\x00"
    middle = data.index("ö".encode()) + 1  # split inside the two-byte character
    [frame] = parse(data[:middle], data[middle:])
    assert frame.body == body


def test_without_content_length_the_body_ends_at_the_first_nul():
    frames = parse(b"SEND\ndestination:/a\n\nfirst\x00SEND\ndestination:/b\n\nsecond\x00")
    assert [frame.body for frame in frames] == [b"first", b"second"]


def test_a_body_not_followed_by_nul_is_an_error():
    with pytest.raises(StompProtocolError, match="NUL"):
        parse(b"SEND\ndestination:/a\ncontent-length:2\n\nhiX")


def test_headers_are_unescaped_and_the_first_repeated_one_wins():
    [frame] = parse(b"SUBSCRIBE\nid:1\ndestination:/a\\cb\\\\c\\nd\\re\ndestination:/ignored\n\n\x00")
    assert frame.header("destination") == "/a:b\\c\nd\re"


def test_connect_headers_are_taken_verbatim():
    [frame] = parse(b"CONNECT\nAuthorization:Bearer abc.def:ghi\npasscode:a\\b\n\n\x00")
    assert frame.header("Authorization") == "Bearer abc.def:ghi"
    assert frame.header("passcode") == "a\\b"


@pytest.mark.parametrize("sequence", [b"\\t", b"\\", b"\\x"])
def test_an_invalid_escape_is_a_protocol_error(sequence):
    with pytest.raises(StompProtocolError, match="escape"):
        parse(b"SUBSCRIBE\nid:1\ndestination:/a" + sequence + b"\n\n\x00")


def test_escaping_follows_the_version():
    with pytest.raises(StompProtocolError):
        parse(b"SUBSCRIBE\nid:a\\rb\n\n\x00", parser=FrameParser(version="1.1"))
    [frame] = parse(b"SUBSCRIBE\nid:a\\cb\n\n\x00", parser=FrameParser(version="1.0"))
    assert frame.header("id") == "a\\cb"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"SEND\ndestination\n\n\x00", "without ':'"),
        (b"SEND\ncontent-length:two\n\n\x00", "content-length"),
        (b"SEND\ncontent-length:-1\n\n\x00", "content-length"),
        (b"SE\xffND\n\n\x00", "UTF-8"),
    ],
)
def test_malformed_frames_are_protocol_errors(data, error):
    with pytest.raises(StompProtocolError, match=error):
        parse(data)


def test_frame_size_is_limited_with_and_without_content_length():
    limits = ParserLimits(max_frame_bytes=100)
    with pytest.raises(StompProtocolError, match="larger than 100"):
        parse(b"SEND\ndestination:/a\n\n" + b"x" * 200, parser=FrameParser(limits))
    # A declared length over the limit fails at once, before the body arrives.
    with pytest.raises(StompProtocolError, match="larger than 100"):
        parse(b"SEND\ncontent-length:1000\n\n", parser=FrameParser(limits))
    [frame] = parse(b"SEND\n\n" + b"x" * 80 + b"\x00", parser=FrameParser(limits))
    assert len(frame.body) == 80


def test_header_count_and_line_length_are_limited():
    limits = ParserLimits(max_headers=3, max_header_line_bytes=20)
    with pytest.raises(StompProtocolError, match="More than 3 headers"):
        parse(b"SEND\na:1\nb:2\nc:3\nd:4\n\n\x00", parser=FrameParser(limits))
    with pytest.raises(StompProtocolError, match="longer than 20"):
        parse(b"SEND\ndestination:/a-rather-long-one\n\n\x00", parser=FrameParser(limits))
    # An unfinished line fails as soon as it is too long, without waiting for its end.
    with pytest.raises(StompProtocolError, match="longer than 20"):
        parse(b"SEND\n" + b"x" * 30, parser=FrameParser(limits))
    [frame] = parse(b"SEND\na:1\nb:2\nc:3\n\n\x00", parser=FrameParser(limits))
    assert frame.header("c") == "3"


def test_a_failed_parser_stays_failed():
    parser = FrameParser()
    with pytest.raises(StompProtocolError):
        parse(b"SEND\nbroken\n\n\x00", parser=parser)
    with pytest.raises(StompProtocolError):
        parse(b"SEND\n\n\x00", parser=parser)


def test_encoded_frames_parse_back_to_themselves():
    frames = [
        Frame("SEND", (("destination", "/a:b\\c\nd"), ("x", "")), "ünïcode\x00body".encode()),
        Frame("SUBSCRIBE", (("id", "sub-0"), ("destination", "/topic/room/1"))),
    ]
    data = b"\n".join(encode_frame(frame) for frame in frames)
    parsed = parse(data)
    assert parsed[0].header("destination") == "/a:b\\c\nd"
    assert parsed[0].body == "ünïcode\x00body".encode()
    assert parsed[1] == frames[1]
