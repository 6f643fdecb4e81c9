"""The shipped question bank: its shape, every reference solution, and idempotent seeding."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from persistence.bank import load_bank, seed_questions
from tests.conftest import bearer

BANK = load_bank()


def normalize(text: str) -> str:
    """Trailing whitespace of each line and final newlines are not significant."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def test_bank_size_and_spread():
    assert len(BANK) >= 40
    assert len({entry.data.title for entry in BANK}) == len(BANK)
    difficulties = Counter(entry.data.difficulty for entry in BANK)
    assert set(difficulties) == {"Easy", "Medium", "Hard"} and min(difficulties.values()) >= 5
    topics = {topic for entry in BANK for topic in entry.data.topic_names}
    assert len(topics) >= 8
    for entry in BANK:
        assert len(entry.data.test_cases) >= 5, entry.slug
        assert entry.data.example_io and entry.data.constraints and entry.data.solution_outline, entry.slug
        assert "Input" in entry.data.statement and "Output" in entry.data.statement, entry.slug
        assert entry.solution.is_file(), entry.slug


@pytest.mark.parametrize("entry", BANK, ids=[entry.slug for entry in BANK])
def test_reference_solution_passes_examples_and_hidden_tests(entry):
    cases = [(example["input"], example["output"]) for example in entry.data.example_io] + entry.data.test_cases
    for index, (given, expected) in enumerate(cases):
        run = subprocess.run(
            [sys.executable, str(entry.solution)], input=given, capture_output=True, text=True, timeout=10
        )
        assert run.returncode == 0, f"case {index}: {run.stderr[-500:]}"
        assert normalize(run.stdout) == normalize(expected), f"case {index} of {entry.slug}"


async def test_seeding_is_idempotent_and_serves_the_bank(harness):
    async with harness.sessions() as session:
        assert await seed_questions(session, BANK) == (len(BANK), 0, 0)
    async with harness.sessions() as session:
        assert await seed_questions(session, BANK) == (0, 0, len(BANK))
    token = await harness.token_for("reader")
    listed = await harness.client.get("/questions?take=100", headers=bearer(token))
    assert listed.headers["X-Total-Count"] == str(len(BANK))
    assert {item["title"] for item in listed.json()} == {entry.data.title for entry in BANK}
    topics = (await harness.client.get("/topics", headers=bearer(token))).json()
    assert topics["count"] == len({topic for entry in BANK for topic in entry.data.topic_names})


async def test_seeding_restores_an_edited_bank_question(harness):
    async with harness.sessions() as session:
        await seed_questions(session, BANK[:2])
    admin = await harness.admin_token()
    listed = (await harness.client.get("/questions?orderBy=oldest", headers=bearer(admin))).json()
    first = listed[0]
    await harness.client.delete(f"/questions/{first['id']}", headers=bearer(admin))
    async with harness.sessions() as session:
        assert await seed_questions(session, BANK[:2]) == (0, 1, 1)
    restored = (await harness.client.get(f"/questions/{first['id']}", headers=bearer(admin))).json()
    assert restored["deleted"] is False and len(restored["testCases"]) == len(BANK[0].data.test_cases)
