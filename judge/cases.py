"""A test case as the sandbox judge receives it: what goes to stdin, what stdout must be."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCase:
    input: str
    expected_output: str

    __test__ = False  # not a pytest class, despite the name
