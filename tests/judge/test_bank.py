"""Every reference solution of the question bank is Accepted through the sandbox, within its limits."""

from __future__ import annotations

import asyncio
import dataclasses

from judge.cases import TestCase
from judge.sandbox import MiB
from judge.verdicts import Status
from persistence.bank import load_bank
from tests.judge.helpers import need

PYTHON = 71


async def test_every_reference_solution_is_accepted(runner):
    need(runner, PYTHON)
    bank = load_bank()

    async def judge(entry):
        data = entry.data
        cases = [(example["input"], example["output"]) for example in data.example_io] + data.test_cases
        tests = [TestCase(given, expected) for given, expected in cases]
        limits = runner.run_limits
        if data.metadata:
            limits = dataclasses.replace(
                limits,
                cpu_seconds=data.metadata.get("timeLimitMs", 2000) / 1000,
                memory_bytes=data.metadata.get("memoryLimitMb", 256) * MiB,
            )
        source = await asyncio.to_thread(entry.solution.read_text, encoding="utf-8")
        return entry.slug, len(tests), await runner.judge(PYTHON, source, tests, limits)

    results = await asyncio.gather(*(judge(entry) for entry in bank))
    assert len(results) == len(bank) >= 40
    failures = {slug: verdict for slug, _, verdict in results if verdict.status is not Status.ACCEPTED}
    assert not failures, failures
    assert all(count >= 5 for _, count, _ in results)
