"""`scripts/bench judge`: what the bubblewrap sandbox costs, measured in one run.

1. overhead per run: a Python hello world (stdin → stdout, output read and compared) run
   `--runs` times bare (`subprocess.run`, same interpreter and flags) and sandboxed (bwrap +
   supervisor + limits, `Sandbox.run`), alternately so that both meet the same machine load;
   median and p99 of each, their difference and ratio;
2. CPU per run: this process's CPU plus that of every process it started and reaped (with
   bwrap --as-pid-1 the whole sandbox is reaped), bare and sandboxed;
3. throughput on this machine's cores: test-case runs per second of `SandboxRunner.judge`
   with `--submissions` Python submissions of `--tests` tests each judged at once (one
   compile each, then every test; at most one sandbox per core), against the same runs bare
   (plain subprocesses, one thread per core); `--rounds` alternating rounds, median reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reporting import finish

from benchmarks.judge_e2e import summary, verdict_latencies
from benchmarks.server import served
from judge.cases import TestCase
from judge.compare import outputs_match
from judge.runner import SandboxRunner
from judge.sandbox import RUN_LIMITS
from judge.toolchains import TOOLCHAINS, resolve
from judge.verdicts import Status

ROOT = Path(__file__).resolve().parents[2]

PYTHON = 71
HELLO = "import sys\nname = sys.stdin.readline().strip()\nprint(f'hello {name}')\n"
SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_seconds() -> float:
    """CPU of this process and of the children it has reaped."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def bare_run(python: str, script: Path, given: bytes) -> bytes:
    run = subprocess.run([python, "-I", "-B", str(script)], input=given, capture_output=True, env={}, timeout=30)
    return run.stdout


def overhead(runner: SandboxRunner, python: str, runs: int) -> dict[str, float]:
    sandbox = runner.sandbox
    timings: dict[str, list[float]] = {"bare": [], "sandbox": []}
    cpu: dict[str, float] = {"bare": 0.0, "sandbox": 0.0}
    with sandbox.workspace() as workspace:
        script = workspace.write("script.py", HELLO)
        for index in range(runs + 3):
            for name in ("bare", "sandbox"):
                cpu_before = cpu_seconds()
                started = time.perf_counter()
                if name == "bare":
                    output = bare_run(python, script, b"judge\n")
                else:
                    argv = [python, "-I", "-B", "/box/script.py"]
                    output = sandbox.run(argv, box=workspace.box, limits=RUN_LIMITS, stdin=b"judge\n").stdout
                elapsed = time.perf_counter() - started
                if not outputs_match(output, "hello judge\n"):
                    raise SystemExit(f"{name} run printed {output!r}")
                if index >= 3:  # warm-up runs are not counted
                    timings[name].append(elapsed * 1000)
                    cpu[name] += cpu_seconds() - cpu_before
    results: dict[str, float] = {}
    for name in ("bare", "sandbox"):
        results[f"{name}_p50_ms"] = statistics.median(timings[name])
        results[f"{name}_p99_ms"] = percentile(timings[name], 0.99)
        results[f"{name}_cpu_ms"] = cpu[name] * 1000 / runs
    results["overhead_p50_ms"] = results["sandbox_p50_ms"] - results["bare_p50_ms"]
    results["overhead_p99_ms"] = results["sandbox_p99_ms"] - results["bare_p99_ms"]
    results["ratio_p50"] = results["sandbox_p50_ms"] / results["bare_p50_ms"]
    return results


def throughput(runner: SandboxRunner, python: str, submissions: int, tests: int, rounds: int) -> dict[str, float]:
    cases = [TestCase(f"{n} {n + 1}\n", f"{2 * n + 1}\n") for n in range(tests)]
    jobs = [case for _ in range(submissions) for case in cases]

    async def judge_all():
        return await asyncio.gather(*(runner.judge(PYTHON, SUM, cases) for _ in range(submissions)))

    sandboxed, bare = [], []
    with runner.sandbox.workspace() as workspace, ThreadPoolExecutor(runner.max_parallel) as pool:
        script = workspace.write("script.py", SUM)
        for _ in range(rounds):
            started = time.perf_counter()
            verdicts = asyncio.run(judge_all())
            sandboxed.append(len(jobs) / (time.perf_counter() - started))
            if any(verdict.status is not Status.ACCEPTED for verdict in verdicts):
                raise SystemExit(f"a throughput submission was not accepted: {verdicts}")

            started = time.perf_counter()
            outputs = list(pool.map(lambda case: bare_run(python, script, case.input.encode()), jobs))
            bare.append(len(jobs) / (time.perf_counter() - started))
            if not all(outputs_match(out, case.expected_output) for out, case in zip(outputs, jobs, strict=True)):
                raise SystemExit("a bare throughput run printed a wrong answer")
    return {
        "sandbox_runs_per_s": statistics.median(sandboxed),
        "bare_runs_per_s": statistics.median(bare),
        "throughput_ratio": statistics.median(sandboxed) / statistics.median(bare),
        "parallel": runner.max_parallel,
        "runs": len(jobs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50, help="sequential runs for the overhead figures")
    parser.add_argument("--submissions", type=int, default=8, help="submissions judged at once for throughput")
    parser.add_argument("--tests", type=int, default=25, help="test cases per submission")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds")
    parser.add_argument("--parallel", type=int, default=None, help="sandboxes at a time (default: one per core)")
    parser.add_argument("--e2e-samples", type=int, default=10, help="submit → VERDICT samples on the real server")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-judge.json")
    args = parser.parse_args()

    runner = SandboxRunner(max_parallel=args.parallel)
    if not runner.available(PYTHON):
        raise SystemExit(f"the sandbox judge is unavailable: {runner.reason(PYTHON)}")
    python = resolve(TOOLCHAINS[PYTHON])["python3"]
    try:
        print(f"[1/3] overhead: {args.runs} Python hello-world runs bare, then sandboxed", flush=True)
        results = overhead(runner, python, args.runs)
        print(f"[2/3] throughput: {args.submissions} submissions x {args.tests} tests, sandboxed, bare", flush=True)
        results.update(throughput(runner, python, args.submissions, args.tests, args.rounds))
    finally:
        runner.close()
    print(f"[3/3] submit → VERDICT push through the real server, {args.e2e_samples} samples", flush=True)
    with served(JUDGE_BACKEND="sandbox") as (base, _):
        results.update(summary(asyncio.run(verdict_latencies(base, args.e2e_samples))))

    report = [
        ("run, bare subprocess", f"{results['bare_p50_ms']:.1f} ms", f"p99 {results['bare_p99_ms']:.1f} ms"),
        ("run, sandboxed", f"{results['sandbox_p50_ms']:.1f} ms", f"p99 {results['sandbox_p99_ms']:.1f} ms"),
        ("sandbox overhead per run", f"+{results['overhead_p50_ms']:.1f} ms",
         f"p99 +{results['overhead_p99_ms']:.1f} ms; {results['ratio_p50']:.2f}x the bare median"),
        ("CPU per run", f"{results['sandbox_cpu_ms']:.1f} ms", f"bare {results['bare_cpu_ms']:.1f} ms"),
        ("throughput, sandboxed", f"{results['sandbox_runs_per_s']:.0f} runs/s",
         f"{results['runs']} test-case runs, {results['parallel']} at a time, median of rounds"),
        ("throughput, bare", f"{results['bare_runs_per_s']:.0f} runs/s",
         f"sandboxed is {results['throughput_ratio']:.2f}x of it"),
        ("submit → VERDICT push", f"{results['e2e_p50_ms']:.0f} ms",
         f"median; max {results['e2e_max_ms']:.0f} ms over {results['e2e_samples']}; target ≤ 1 s; "
         "accepted Python, ≥ 10 tests"),
    ]  # fmt: skip
    return finish([f"{name:28} {value:>14}   ({note})" for name, value, note in report], results, args.json)


if __name__ == "__main__":
    sys.exit(main())
