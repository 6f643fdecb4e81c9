"""The contest's tunable rules; the defaults are the seed's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContestRules:
    duration_seconds: int = 600
    problem_count: int = 3
    players: int = 2
    submissions_per_window: int = 5
    submission_window_seconds: float = 10.0
    wrong_attempt_penalty_seconds: int = 600
    join_failures_per_window: int = 5
    join_failure_window_seconds: float = 60.0
