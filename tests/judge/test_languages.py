"""Every language through the sandbox: Accepted, Wrong Answer, Compilation Error, each Runtime
Error kind that can be provoked, and Time Limit Exceeded by CPU and by wall clock."""

from __future__ import annotations

import asyncio

import pytest

from judge.cases import TestCase
from judge.runner import SandboxRunner
from judge.sandbox import SandboxLimits
from judge.verdicts import Status
from tests.judge.helpers import CPU_BOUND, QUICK, SMALL_FILES, need

pytestmark = pytest.mark.usefixtures("no_leftovers")

PYTHON, CPP, C, JAVA, JS = 71, 54, 50, 62, 63

SUM_TESTS = [TestCase("1 2\n", "3\n"), TestCase("40 2\n", "42\n"), TestCase("-5 5\n", "0\n")]

SUM = {
    PYTHON: "a, b = map(int, input().split())\nprint(a + b)\n",
    CPP: "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n",
    C: '#include <stdio.h>\nint main(void) { long long a, b; scanf("%lld %lld", &a, &b); printf("%lld\\n", a + b); }\n',
    JAVA: (
        "import java.util.Scanner;\n"
        "public class Main {\n"
        "    public static void main(String[] args) {\n"
        "        Scanner in = new Scanner(System.in);\n"
        "        System.out.println(in.nextLong() + in.nextLong());\n"
        "    }\n"
        "}\n"
    ),
    JS: "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n",
}

# Right on the first test only (a + b only when a is 1): fails test 1.
FIRST_ONLY = {
    PYTHON: "a, b = map(int, input().split())\nprint(a + b if a == 1 else a - b)\n",
    CPP: (
        "#include <iostream>\n"
        "int main() { long long a, b; std::cin >> a >> b; std::cout << (a == 1 ? a + b : a - b) << '\\n'; }\n"
    ),
    C: (
        "#include <stdio.h>\n"
        'int main(void) { long long a, b; scanf("%lld %lld", &a, &b); printf("%lld\\n", a == 1 ? a + b : a - b); }\n'
    ),
    JAVA: (
        "import java.util.Scanner;\n"
        "public class Main {\n"
        "    public static void main(String[] args) {\n"
        "        Scanner in = new Scanner(System.in);\n"
        "        long a = in.nextLong(), b = in.nextLong();\n"
        "        System.out.println(a == 1 ? a + b : a - b);\n"
        "    }\n"
        "}\n"
    ),
    JS: (
        "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(a === 1 ? a + b : a - b);\n"
    ),
}

NOT_COMPILING = {
    PYTHON: "def broken(:\n    pass\n",
    CPP: "int main() { return undeclared_name; }\n",
    C: "int main(void) { return undeclared_name }\n",
    JAVA: "public class Main { public static void main(String[] args) { int x = ; } }\n",
    JS: "function broken( {\n",
}
COMPILER_SAYS = {
    PYTHON: "SyntaxError",
    CPP: "undeclared_name",
    C: "undeclared_name",
    JAVA: "illegal start of expression",
    JS: "SyntaxError",
}

NONZERO_EXIT = {
    PYTHON: "raise ValueError('no')\n",
    CPP: "int main() { return 3; }\n",
    C: "#include <stdlib.h>\nint main(void) { exit(4); }\n",
    JAVA: "public class Main { public static void main(String[] a) { throw new IllegalStateException(); } }\n",
    JS: "throw new Error('no');\n",
}

BUSY_LOOP = {
    PYTHON: "while True:\n    pass\n",
    CPP: "int main() { volatile unsigned long long n = 0; for (;;) n++; }\n",
    C: "int main(void) { volatile unsigned long long n = 0; for (;;) n++; }\n",
    JAVA: "public class Main { public static void main(String[] a) { long n = 0; while (n >= 0) n = (n + 1) % 7; } }\n",
    JS: "let n = 0;\nwhile (true) n = (n + 1) % 7;\n",
}

SLEEPER = {
    PYTHON: "import time\ntime.sleep(60)\n",
    C: "#include <unistd.h>\nint main(void) { sleep(60); }\n",
    JAVA: "public class Main { public static void main(String[] a) throws Exception { Thread.sleep(60000); } }\n",
    JS: "setTimeout(() => {}, 60000);\n",
}

C_SIGNALS = {
    # A store through a null pointer the compiler cannot see coming.
    Status.RUNTIME_ERROR_SIGSEGV: (
        '#include <stdio.h>\nint main(void) { long a; scanf("%ld", &a); *(volatile int *)a = 1; return 0; }\n',
        "0\n",
    ),
    # Integer division by a zero read from stdin.
    Status.RUNTIME_ERROR_SIGFPE: (
        '#include <stdio.h>\nint main(void) { int z; scanf("%d", &z); printf("%d\\n", 10 / z); return 0; }\n',
        "0\n",
    ),
    Status.RUNTIME_ERROR_SIGABRT: ("#include <stdlib.h>\nint main(void) { abort(); }\n", ""),
    # Writes 4 MiB to a file under a 1 MiB file-size limit.
    Status.RUNTIME_ERROR_SIGXFSZ: (
        "#include <stdio.h>\n#include <string.h>\n"
        "int main(void) {\n"
        '    FILE *f = fopen("big.bin", "w"); char block[4096]; memset(block, 7, sizeof block);\n'
        "    for (int i = 0; i < 1024; i++) fwrite(block, 1, sizeof block, f);\n"
        "    fclose(f); return 0;\n"
        "}\n",
        "",
    ),
    Status.RUNTIME_ERROR_OTHER: ("#include <signal.h>\nint main(void) { raise(SIGUSR1); return 0; }\n", ""),
}


def judge_all(runner: SandboxRunner, jobs: dict, limits: SandboxLimits | None = None):
    """Judge {key: (language, source, tests)} concurrently: {key: Verdict}."""

    async def one(language, source, tests):
        return await runner.judge(language, source, tests, limits)

    async def every():
        verdicts = await asyncio.gather(*(one(*job) for job in jobs.values()))
        return dict(zip(jobs, verdicts, strict=True))

    return every()


def available(runner: SandboxRunner, programs: dict) -> dict:
    chosen = {language: source for language, source in programs.items() if runner.available(language)}
    if not chosen:
        pytest.skip("no language of this test is available in the sandbox")
    return chosen


async def test_accepted_in_every_language(runner):
    verdicts = await judge_all(runner, {lang: (lang, src, SUM_TESTS) for lang, src in available(runner, SUM).items()})
    for language, verdict in verdicts.items():
        assert verdict.status is Status.ACCEPTED, (language, verdict)
        assert verdict.failed_test is None, language
        assert verdict.time is not None and verdict.time >= 0, language
        assert verdict.memory is not None and verdict.memory > 0, language


async def test_wrong_answer_names_the_first_failing_test_and_hides_the_data(runner):
    tests = [TestCase("1 2\n", "3\n"), TestCase("1000001 2000002\n", "3000003\n"), TestCase("7 7\n", "14\n")]
    jobs = {lang: (lang, src, tests) for lang, src in available(runner, FIRST_ONLY).items()}
    verdicts = await judge_all(runner, jobs)
    for language, verdict in verdicts.items():
        assert verdict.status is Status.WRONG_ANSWER, (language, verdict)
        assert verdict.failed_test == 1, language
        assert verdict.compile_output is None, language
        # Neither test 1's input, nor what was expected, nor what the program printed appears.
        for secret in ("1000001", "2000002", "3000003"):
            assert secret not in repr(verdict), (language, verdict)


async def test_compilation_error_carries_the_compiler_output(runner):
    jobs = {lang: (lang, src, SUM_TESTS) for lang, src in available(runner, NOT_COMPILING).items()}
    for language in (CPP, JAVA):
        need(runner, language)
    verdicts = await judge_all(runner, jobs)
    for language, verdict in verdicts.items():
        assert verdict.status is Status.COMPILATION_ERROR, (language, verdict)
        assert COMPILER_SAYS[language] in verdict.compile_output, (language, verdict.compile_output)
        assert verdict.failed_test is None


async def test_compiler_output_is_truncated(runner):
    need(runner, CPP)
    chatty = SandboxRunner(sandbox=runner.sandbox, compile_output_limit=200)
    source = "int main() {\n" + "".join(f"  undeclared_{n} = 1;\n" for n in range(100)) + "}\n"
    verdict = await chatty.judge(CPP, source, SUM_TESTS)
    assert verdict.status is Status.COMPILATION_ERROR
    assert verdict.compile_output.endswith("[compiler output truncated]\n")
    assert len(verdict.compile_output) < 300


async def test_the_submission_is_compiled_once_for_all_tests(runner, monkeypatch):
    need(runner, C)
    calls = []
    original = runner.sandbox.run_async

    async def counting(argv, **options):
        calls.append(options["writable_box"])
        return await original(argv, **options)

    monkeypatch.setattr(runner.sandbox, "run_async", counting)
    verdict = await runner.judge(C, SUM[C], SUM_TESTS * 2)
    assert verdict.status is Status.ACCEPTED
    assert calls == [True] + [False] * 6


async def test_non_zero_exit_is_nzec(runner):
    jobs = {lang: (lang, src, SUM_TESTS) for lang, src in available(runner, NONZERO_EXIT).items()}
    verdicts = await judge_all(runner, jobs)
    for language, verdict in verdicts.items():
        assert verdict.status is Status.RUNTIME_ERROR_NZEC, (language, verdict)
        assert verdict.failed_test == 0


async def test_each_signal_is_its_runtime_error(runner):
    need(runner, C)
    jobs = {status: (C, source, [TestCase(given, "")]) for status, (source, given) in C_SIGNALS.items()}
    verdicts = await judge_all(runner, jobs, SMALL_FILES)
    for status, verdict in verdicts.items():
        assert verdict.status is status, (status, verdict)
        assert verdict.failed_test == 0


async def test_an_exit_status_above_128_is_not_mistaken_for_a_signal(runner):
    need(runner, C)
    verdict = await runner.judge(C, "int main(void) { return 139; }\n", [TestCase("", "")])
    assert verdict.status is Status.RUNTIME_ERROR_NZEC  # 128 + SIGSEGV, but an exit status


async def test_later_test_runtime_error_is_reported_at_its_index(runner):
    need(runner, PYTHON)
    source = "n = int(input())\nprint(10 // n)\n"
    tests = [TestCase("5\n", "2\n"), TestCase("2\n", "5\n"), TestCase("0\n", "0\n"), TestCase("1\n", "10\n")]
    verdict = await runner.judge(PYTHON, source, tests)
    assert (verdict.status, verdict.failed_test) == (Status.RUNTIME_ERROR_NZEC, 2)


async def test_busy_loop_exceeds_the_cpu_limit(runner):
    jobs = {lang: (lang, src, SUM_TESTS) for lang, src in available(runner, BUSY_LOOP).items()}
    verdicts = await judge_all(runner, jobs, CPU_BOUND)
    for language, verdict in verdicts.items():
        assert verdict.status is Status.TIME_LIMIT_EXCEEDED, (language, verdict)
        assert verdict.failed_test == 0
        # Stopped by its own CPU use (SIGXCPU; rusage and the limit are accounted a tick apart).
        assert verdict.time >= 0.9 * CPU_BOUND.cpu_seconds, (language, verdict)


async def test_sleeping_past_the_wall_limit_is_a_time_limit(runner):
    jobs = {lang: (lang, src, SUM_TESTS) for lang, src in available(runner, SLEEPER).items()}
    verdicts = await judge_all(runner, jobs, QUICK)
    for language, verdict in verdicts.items():
        assert verdict.status is Status.TIME_LIMIT_EXCEEDED, (language, verdict)
        assert verdict.failed_test == 0
        # It slept: the CPU it used is far below the limit, so the wall clock stopped it.
        assert verdict.time < QUICK.cpu_seconds, (language, verdict)


async def test_unknown_language_is_refused(runner):
    with pytest.raises(ValueError, match="unknown language"):
        await runner.judge(999, "print(1)", SUM_TESTS)
