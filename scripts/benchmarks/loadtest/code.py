"""Right and wrong submissions for the judge the server runs.

`test`: the deterministic test judge (judge/testing.py) reads the verdict off markers in the code.
`real`: a sandbox or Judge0 runs the code, so the right code is the question bank's reference
solution for the problem (found by title) and the wrong code prints something no test expects.
"""

from __future__ import annotations

from judge.languages import LANGUAGES
from persistence.bank import load_bank

PYTHON = next(spec.judge0_id for spec in LANGUAGES if spec.key == "python")
TEST_RIGHT = "print('ACCEPT')\n"
TEST_WRONG = "print('WRONG')\n"
REAL_WRONG = "print('this is not the answer')\n"


class CodeBook:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.language_id = PYTHON
        self.solutions = (
            {item.data.title: item.solution.read_text(encoding="utf-8") for item in load_bank()}
            if kind == "real"
            else {}
        )

    def right(self, title: str) -> str | None:
        """Code the judge accepts for the problem with this title; None when none is known."""
        if self.kind == "test":
            return TEST_RIGHT
        return self.solutions.get(title)

    def wrong(self) -> str:
        return TEST_WRONG if self.kind == "test" else REAL_WRONG
