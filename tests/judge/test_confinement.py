"""What the run's cgroup and the seccomp filter stop: CPU and memory spread over many processes,
tmpfs filling, the denied system calls, and a normal submission next to a hostile one.

Real bubblewrap, real cgroups of this machine (v2, or v1 hybrid), the real libseccomp filter.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from pathlib import Path

import pytest

import judge.sandbox as sandbox_module
from judge.cases import TestCase
from judge.cgroups import CgroupLimits, V2Parent, open_parent
from judge.runner import SandboxRunner
from judge.sandbox import MiB, Sandbox, SandboxLimits
from judge.seccomp import DENIED, SeccompUnavailable
from judge.verdicts import Status
from tests.judge.helpers import need

pytestmark = pytest.mark.usefixtures("no_leftovers")

PYTHON, C = 71, 50
DONE = [TestCase("", "done\n")]

BURNERS = (
    "import os, time\n"
    "for _ in range(3):\n"
    "    if os.fork() == 0:\n"
    "        while True:\n"
    "            pass\n"
    "time.sleep(4)\n"  # never waits for them: a supervisor counting reaped children sees none of their CPU
    "print('done')\n"
)


def needs_cgroups(runner: SandboxRunner) -> None:
    if runner.sandbox.cgroups is None:
        pytest.skip(f"the judge runs without cgroups here: {runner.sandbox.cgroup_reason}")


async def test_forked_cpu_burners_get_time_limit_and_their_cpu_is_counted(runner):
    need(runner, PYTHON)
    needs_cgroups(runner)
    limits = SandboxLimits(cpu_seconds=1.0, wall_seconds=10.0)
    verdict = await runner.judge(PYTHON, BURNERS, DONE, limits)
    assert verdict.status is Status.TIME_LIMIT_EXCEEDED, verdict
    assert verdict.time is not None and verdict.time >= limits.cpu_seconds, verdict


async def test_memory_spread_over_many_processes_is_a_memory_limit_within_the_limit(runner):
    need(runner, PYTHON)
    needs_cgroups(runner)
    limits = SandboxLimits(memory_bytes=256 * MiB, wall_seconds=10.0)
    spread = (
        "import os, time\n"
        "children = []\n"
        "for _ in range(6):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(80 * 1024 * 1024)\n"
        "        for i in range(0, len(block), 4096):\n"
        "            block[i] = 1\n"
        "        time.sleep(3)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
        "for pid in children:\n"
        "    os.waitpid(pid, 0)\n"
        "print('done')\n"
    )
    verdict = await runner.judge(PYTHON, spread, DONE, limits)
    assert verdict.status is Status.MEMORY_LIMIT_EXCEEDED, verdict
    assert verdict.memory is not None and verdict.memory <= limits.memory_bytes // 1024, verdict


async def test_filling_tmpfs_is_stopped_at_the_memory_limit_and_counted(runner):
    need(runner, PYTHON)
    needs_cgroups(runner)
    limits = SandboxLimits(memory_bytes=96 * MiB, scratch_bytes=512 * MiB, file_size_bytes=512 * MiB, wall_seconds=10.0)
    filling = (
        "chunk = b'x' * (1024 * 1024)\n"
        "with open('/tmp/fill', 'wb') as file:\n"
        "    for _ in range(300):\n"
        "        file.write(chunk)\n"
        "        file.flush()\n"
        "print('done')\n"
    )
    verdict = await runner.judge(PYTHON, filling, DONE, limits)
    assert verdict.status is Status.MEMORY_LIMIT_EXCEEDED, verdict
    assert verdict.memory is not None and 64 * 1024 <= verdict.memory <= limits.memory_bytes // 1024, verdict


SYSCALLS_PROGRAM = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct probe { const char *name; long number; };
static const struct probe denied[] = {
%s
};

static int bad = 0;
static void expect(const char *name, long result, int error, int wanted) {
    if (result != -1 || error != wanted) {
        printf("%%s: %%ld %%s\n", name, result, strerror(error));
        bad = 1;
    }
}

int main(void) {
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        errno = 0;
        long result = syscall(denied[i].number, 0, 0, 0, 0, 0, 0);
        expect(denied[i].name, result, errno, EPERM);
    }
    errno = 0;
    long result = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (result == 0) _exit(0);
    expect("clone(CLONE_NEWUSER)", result, errno, EPERM);
    errno = 0;
    result = syscall(SYS_clone3, 0, 0);
    expect("clone3", result, errno, ENOSYS);
    errno = 0;
    result = syscall(0x40000000L | SYS_getpid);
    expect("x32 getpid", result, errno, EPERM);
    if (!bad) puts("done");
    return 0;
}
"""


def syscalls_program() -> str:
    table = ",\n".join(f'    {{"{name}", SYS_{name}}}' for name in DENIED)
    return SYSCALLS_PROGRAM % table


async def test_each_denied_system_call_fails_with_eperm(runner):
    need(runner, C)
    verdict = await runner.judge(C, syscalls_program(), DONE)
    assert verdict.status is Status.ACCEPTED, verdict


async def test_a_normal_submission_next_to_a_hostile_one_gets_its_verdict(runner):
    need(runner, PYTHON)
    needs_cgroups(runner)
    limits = SandboxLimits(cpu_seconds=1.0, wall_seconds=10.0)
    normal = "print(sum(range(10 ** 6)) and 'done')\n"
    hostile, neighbour = await asyncio.gather(
        runner.judge(PYTHON, BURNERS, DONE, limits),
        runner.judge(PYTHON, normal, DONE, limits),
    )
    assert hostile.status is Status.TIME_LIMIT_EXCEEDED, hostile
    assert neighbour.status is Status.ACCEPTED, neighbour
    assert neighbour.time is not None and neighbour.time < limits.cpu_seconds, neighbour


def supervisors() -> int:
    return sum(1 for command in processes_of_everyone() if command.startswith("/.supervisor"))


def processes_of_everyone() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def uncontained():
    runner = SandboxRunner(sandbox=Sandbox(cgroups="off"))
    if runner.reason() is not None:
        pytest.skip(runner.reason())
    yield runner
    runner.close()


async def test_without_cgroups_the_judge_says_why_and_runs_one_at_a_time(uncontained):
    need(uncontained, PYTHON)
    assert uncontained.sandbox.cgroups is None
    assert "JUDGE_CGROUPS=off" in uncontained.sandbox.cgroup_reason
    peak = 0
    running = True

    async def watch():
        nonlocal peak
        while running:
            peak = max(peak, await asyncio.to_thread(supervisors))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    sleeper = "import time\ntime.sleep(1)\nprint('done')\n"
    verdicts = await asyncio.gather(*(uncontained.judge(PYTHON, sleeper, DONE) for _ in range(3)))
    running = False
    await watcher
    assert [verdict.status for verdict in verdicts] == [Status.ACCEPTED] * 3, verdicts
    assert peak == 1


def test_the_cgroup_v2_path_limits_and_removes_a_run():
    """The v2 layout on a real delegatable cgroup v2; skipped, with the reason, where there is none."""
    parent = open_parent("v2")
    if isinstance(parent, str):
        pytest.skip(f"no delegatable cgroup v2 here: {parent}")
    assert isinstance(parent, V2Parent)
    run = parent.create(CgroupLimits(memory_bytes=64 * MiB, processes=8, cpu_cores=0.5))
    directory = run.directory
    try:
        assert (directory / "memory.max").read_text().strip() == str(64 * MiB)
        assert (directory / "memory.swap.max").read_text().strip() == "0"
        assert (directory / "pids.max").read_text().strip() == "8"
        assert (directory / "cpu.max").read_text().split() == ["50000", "100000"]
    finally:
        run.close()
        parent.close()
    assert not directory.exists()


def test_a_run_cgroup_is_removed_and_its_processes_killed():
    parent = open_parent()
    if isinstance(parent, str):
        pytest.skip(f"no cgroup here: {parent}")
    run = parent.create(CgroupLimits(memory_bytes=64 * MiB, processes=8, cpu_cores=1.0))
    procs = " ".join(str(path) for path in run.procs_files)
    script = 'for f in $P; do echo 0 > "$f"; done; sleep 60 & sleep 60 & wait'
    process = subprocess.Popen(["/bin/sh", "-c", script], env={"P": procs, "PATH": "/usr/bin:/bin"})
    try:
        deadline = time.monotonic() + 10
        while len(run.procs_files[0].read_text().split()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        run.close()
        assert process.wait(timeout=10) != 0
        assert not any(path.parent.exists() for path in run.procs_files)
    finally:
        process.kill()
        parent.close()


def test_unknown_cgroup_mode_is_refused():
    assert "unknown cgroup mode" in open_parent("v3")



def test_without_cgroups_a_warning_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="peerprep.judge.sandbox"):
        sandbox = Sandbox(cgroups="off")
    sandbox.close()
    assert any("WITHOUT cgroups" in record.getMessage() for record in caplog.records), caplog.text


async def test_without_the_seccomp_filter_the_sandbox_refuses_and_says_why(monkeypatch):
    def unavailable() -> bytes:
        raise SeccompUnavailable("libseccomp is not usable (test)")

    monkeypatch.setattr(sandbox_module, "build_filter", unavailable)
    refusing = SandboxRunner(sandbox=Sandbox(cgroups="off"))
    try:
        assert "seccomp" in refusing.reason() and "libseccomp is not usable (test)" in refusing.reason()
        verdict = await refusing.judge(PYTHON, "print('done')\n", DONE)
        assert verdict.status is Status.INTERNAL_ERROR and "seccomp" in verdict.compile_output
    finally:
        refusing.close()
