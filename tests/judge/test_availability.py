"""Without bubblewrap or a toolchain the runner says why, and answers Internal Error rather than failing."""

from __future__ import annotations

import judge.sandbox
import judge.toolchains
from judge.cases import TestCase
from judge.runner import SandboxRunner
from judge.sandbox import Sandbox
from judge.verdicts import Status

TESTS = [TestCase("", "1\n")]


async def test_without_bubblewrap_the_runner_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(judge.sandbox, "SYSTEM_PATH", str(tmp_path))  # a PATH with no bwrap in it
    runner = SandboxRunner(sandbox=Sandbox())
    assert not runner.available()
    assert runner.reason().startswith("bubblewrap not installed")
    assert runner.languages() == []
    verdict = await runner.judge(71, "print(1)", TESTS)
    assert verdict.status is Status.INTERNAL_ERROR
    assert verdict.compile_output == runner.reason()


async def test_a_missing_toolchain_makes_only_its_language_unavailable(runner, monkeypatch, tmp_path):
    monkeypatch.setattr(judge.toolchains, "SYSTEM_PATH", str(tmp_path))  # no compiler or interpreter
    bare = SandboxRunner(sandbox=runner.sandbox)
    assert bare.available()  # the sandbox itself works
    assert not bare.available(54)
    assert "g++ is not installed" in bare.reason(54)
    verdict = await bare.judge(54, "int main() {}", TESTS)
    assert (verdict.status, verdict.compile_output) == (Status.INTERNAL_ERROR, bare.reason(54))


def test_unknown_language_reason(runner):
    assert runner.reason(999) == "language 999 is not supported by the sandbox judge"
