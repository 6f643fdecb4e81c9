"""The messages a contest room answers. User ids come from verified tokens, never from bodies."""

from __future__ import annotations

from dataclasses import dataclass

from judge.verdicts import Verdict


@dataclass(frozen=True)
class Create:
    """Create this (reserved, unused) room id's room, with its host seated; answered with the Room JSON."""

    host_user_id: int
    password: str


@dataclass(frozen=True)
class Join:
    user_id: int
    password: str


@dataclass(frozen=True)
class Start:
    user_id: int


@dataclass(frozen=True)
class Submit:
    user_id: int
    problem_id: int
    language_id: int
    code: str
    received_at: float | None = None
    """When a front received the request (Unix seconds): the state counting the verdict carries it."""


@dataclass(frozen=True)
class ApplyVerdict:
    """A judge's answer for one submission; applying the same one twice changes nothing."""

    submission_id: int
    verdict: Verdict


@dataclass(frozen=True)
class End:
    user_id: int


@dataclass(frozen=True)
class DeadlineReached:
    """Posted by the room's own timer at the stored deadline."""


@dataclass(frozen=True)
class GetState:
    """The room's full state for fronts to render per viewer (see `actors.contest.views`)."""
