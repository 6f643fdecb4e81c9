"""Output comparison (only trailing whitespace per line and trailing newlines are forgiven) and supervisor reports."""

from __future__ import annotations

import pytest

from judge.compare import normalize, outputs_match
from judge.supervisor import Report, parse_report


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (b"3\n", "3\n"),
        (b"3", "3\n"),
        (b"3\n\n\n", "3"),
        (b"1 2  \n3\t\n", "1 2\n3\n"),
        (b"1 2\r\n3\r\n", "1 2\n3\n"),
        ("\u00e9t\u00e9\n".encode(), "\u00e9t\u00e9"),
    ],
)
def test_trailing_whitespace_and_final_newlines_do_not_matter(actual, expected):
    assert outputs_match(actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (b"4\n", "3\n"),
        (b" 3\n", "3\n"),
        (b"1  2\n", "1 2\n"),
        (b"\n3\n", "3\n"),
        (b"1\n\n2\n", "1\n2\n"),
        (b"", "0\n"),
        (b"12", "1 2"),
    ],
)
def test_everything_else_matters(actual, expected):
    assert not outputs_match(actual, expected)


def test_normalize_keeps_inner_lines():
    assert normalize(b"a \n\n b\t\n\n") == b"a\n\n b"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"exit 0 1500 500 2048\n", Report(signal=None, exit_code=0, cpu_seconds=0.002, memory_kb=2048)),
        (b"exit 139 0 0 1", Report(signal=None, exit_code=139, cpu_seconds=0.0, memory_kb=1)),
        (b"signal 11 1000000 0 900", Report(signal=11, exit_code=None, cpu_seconds=1.0, memory_kb=900)),
    ],
)
def test_supervisor_reports_are_read_exactly(line, expected):
    assert parse_report(line) == expected


@pytest.mark.parametrize("line", [b"execfail 2", b"exit x 1 2 3", b"garbage", b"signal 11 1 2"])
def test_anything_else_from_the_supervisor_is_a_sandbox_failure(line):
    assert isinstance(parse_report(line), str)
