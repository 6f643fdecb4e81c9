"""Running a program once (`POST /run`): output, exit codes, compile errors and limits, in the real sandbox."""

from __future__ import annotations

import pytest

from judge.verdicts import Status

PYTHON, JAVA = 71, 62


def need(runner, language: int) -> None:
    if not runner.available(language):
        pytest.skip(runner.reason(language))


async def test_a_program_prints_and_exits(runner):
    need(runner, PYTHON)
    program = "import sys\nprint(input())\nprint('oops', file=sys.stderr)\nsys.exit(3)"
    ran = await runner.execute(PYTHON, program, "hi\n")
    assert (ran.stdout, ran.stderr, ran.exit_code, ran.status) == ("hi\n", "oops\n", 3, Status.RUNTIME_ERROR_NZEC)
    fine = await runner.execute(PYTHON, "print(6 * 7)")
    assert (fine.stdout, fine.exit_code, fine.status) == ("42\n", 0, Status.ACCEPTED)


async def test_what_does_not_compile_answers_with_the_compiler_output(runner):
    need(runner, JAVA)
    ran = await runner.execute(JAVA, "public class Main { void f( }")
    assert ran.status is Status.COMPILATION_ERROR and ran.exit_code == 1 and ran.stdout == ""
    assert "Main.java" in ran.stderr


async def test_a_program_that_never_ends_is_stopped_at_the_limit(runner):
    need(runner, PYTHON)
    ran = await runner.execute(PYTHON, "while True: pass")
    assert ran.status is Status.TIME_LIMIT_EXCEEDED and ran.exit_code is None
