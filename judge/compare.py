"""Output comparison: trailing whitespace on each line and trailing newlines are not significant."""

from __future__ import annotations


def normalize(output: bytes) -> bytes:
    """`output` without trailing blanks on each line and without trailing empty lines."""
    return b"\n".join(line.rstrip() for line in output.rstrip().split(b"\n"))


def outputs_match(actual: bytes, expected: str | bytes) -> bool:
    """Whether a program's stdout equals the expected output up to trailing whitespace."""
    if isinstance(expected, str):
        expected = expected.encode("utf-8")
    return normalize(actual) == normalize(expected)
