"""Hostile submissions: each is contained with the right verdict and leaves the machine as it was.

Most programs test their own confinement and print one word, so Accepted means every attempt
failed inside the sandbox; the tests also check the host side (files, sockets, processes).
Every test ends by checking that no process of the sandbox user survived (`no_leftovers`).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from judge.cases import TestCase
from judge.runner import SandboxRunner
from judge.sandbox import MiB, SandboxLimits
from judge.toolchains import TOOLCHAINS, resolve
from judge.verdicts import Status
from tests.judge.helpers import CPU_BOUND, QUICK, ProcessCounter, need, sandbox_uid

pytestmark = pytest.mark.usefixtures("no_leftovers")

PYTHON, CPP, C, JAVA = 71, 54, 50, 62
THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parents[2]
ONE = [TestCase("", "contained\n")]


def probe(checks: str) -> str:
    """A Python program that runs `checks` (which append to `leaks`) and prints `contained` if none leaked."""
    return f"import os, sys\nleaks = []\n{checks}\nprint('contained' if not leaks else leaks)\n"


def readable_by_anyone_dir(parent: str) -> Path:
    """A host directory and file the sandbox user could read (and write) if it could see them."""
    directory = Path(tempfile.mkdtemp(prefix="judge-secret-", dir=parent))
    directory.chmod(0o777)
    secret = directory / "secret.txt"
    secret.write_text("the server's secret\n")
    secret.chmod(0o644)
    return directory


def read_as(uid: int, path: Path) -> str:
    return subprocess.run(["cat", str(path)], user=uid, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def host_dirs():
    made = [readable_by_anyone_dir("/tmp"), readable_by_anyone_dir("/var/tmp")]
    yield made
    for directory in made:
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()


async def test_reading_host_secrets_fails(runner, host_dirs, tmp_path):
    need(runner, PYTHON)
    in_tmp_path = tmp_path / "secret.txt"  # pytest's own directory (root-only on the host, too)
    await asyncio.to_thread(in_tmp_path.write_text, "the server's secret\n")
    uid = sandbox_uid(runner)
    if uid is not None:  # outside the sandbox the sandbox user could read them: only the sandbox stops it
        for directory in host_dirs:
            assert read_as(uid, directory / "secret.txt") == "the server's secret\n"
    targets = [
        "/etc/shadow",
        "/etc/passwd",
        "/root/.bashrc",
        str(ROOT / "pyproject.toml"),
        str(THIS_FILE),
        *(str(directory / "secret.txt") for directory in host_dirs),
        str(in_tmp_path),
    ]
    checks = (
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        leaks.append((path, open(path).read(40)))\n"
        "    except OSError:\n"
        "        pass\n"
        "for path in ('/root', '/home', '/var', '/srv', '/opt', '/work/main', '/sys'):\n"
        "    if os.path.exists(path):\n"
        "        leaks.append(path)\n"
    )
    verdict = await runner.judge(PYTHON, probe(checks), ONE)
    assert verdict.status is Status.ACCEPTED, verdict


async def test_server_environment_is_not_visible(runner, monkeypatch):
    need(runner, PYTHON)
    monkeypatch.setenv("JWT_SECRET", "jwt-secret-for-the-server-only")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://admin:hunter2@db/peerprep")
    checks = (
        "if set(os.environ) - {'PATH', 'HOME', 'LANG', 'PWD'}:\n"
        "    leaks.append(sorted(os.environ))\n"
        "for entry in os.listdir('/proc'):\n"
        "    try:\n"
        "        data = open(f'/proc/{entry}/environ', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if b'jwt-secret' in data or b'hunter2' in data:\n"
        "        leaks.append(entry)\n"
        "if len([entry for entry in os.listdir('/proc') if entry.isdigit()]) > 3:\n"
        "    leaks.append('sees processes outside the sandbox')\n"
    )
    verdict = await runner.judge(PYTHON, probe(checks), ONE)
    assert verdict.status is Status.ACCEPTED, verdict


async def test_programs_run_at_the_lowest_priority_but_four_and_cannot_raise_it(runner):
    need(runner, PYTHON)
    checks = (
        "if os.nice(0) != 15:\n"
        "    leaks.append(os.nice(0))\n"
        "try:\n"
        "    os.nice(-1)\n"
        "    leaks.append('raised its priority')\n"
        "except OSError:\n"
        "    pass\n"
    )
    verdict = await runner.judge(PYTHON, probe(checks), ONE)
    assert verdict.status is Status.ACCEPTED, verdict


async def test_writing_outside_the_work_directory_fails(runner, host_dirs):
    need(runner, PYTHON)
    outside = ["/x", "/usr/x", "/etc/x", "/box/x", "/dev/x", "/proc/x", "/root/x", str(ROOT / "pwned")]
    outside += [str(directory / "pwned") for directory in host_dirs]
    checks = (
        f"for path in {outside!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('pwned')\n"
        "        leaks.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "for path in ('/work/scratch', '/tmp/scratch'):\n"
        "    open(path, 'w').write('fine')\n"
        "    if open(path).read() != 'fine':\n"
        "        leaks.append('cannot use ' + path)\n"
    )
    verdict = await runner.judge(PYTHON, probe(checks), ONE)
    assert verdict.status is Status.ACCEPTED, verdict
    assert not (ROOT / "pwned").exists()
    for directory in host_dirs:
        assert [path.name for path in directory.iterdir()] == ["secret.txt"]


async def test_network_is_unreachable(runner):
    need(runner, PYTHON)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        checks = (
            "import socket\n"
            f"for address in [('127.0.0.1', {port}), ('1.1.1.1', 53), ('8.8.8.8', 443)]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=1).close()\n"
            "        leaks.append(address)\n"
            "    except OSError:\n"
            "        pass\n"
            "try:\n"
            "    socket.getaddrinfo('example.com', 80)\n"
            "    leaks.append('dns')\n"
            "except OSError:\n"
            "    pass\n"
        )
        verdict = await runner.judge(PYTHON, probe(checks), ONE)
        assert verdict.status is Status.ACCEPTED, verdict
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


async def test_fork_bomb_is_held_to_the_process_limit(runner):
    need(runner, PYTHON)
    limit = runner.run_limits.processes
    counting = (
        "import os, time\n"
        "forks = 0\n"
        "try:\n"
        "    while forks < 5000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        forks += 1\n"
        "except OSError:\n"
        "    pass\n"
        f"print('contained' if 10 < forks < {limit} else forks)\n"
    )
    verdict = await runner.judge(PYTHON, counting, ONE)
    assert verdict.status is Status.ACCEPTED, verdict


async def test_a_fork_bomb_does_not_starve_a_neighbouring_sandbox(runner):
    """Process limits count per sandbox (each has its own user namespace), not per host user."""
    need(runner, PYTHON)
    if runner.max_parallel < 2:
        pytest.skip("needs two sandboxes at once")
    hog = (
        "import os, time\n"
        "forks = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        forks += 1\n"
        "except OSError:\n"
        "    pass\n"
        "time.sleep(2.5)\n"  # hold every process the limit allows while the neighbour runs
        "print('contained')\n"
    )
    children = runner.run_limits.processes // 2
    neighbour = (  # needs `children` processes of its own at the same time
        "import os\n"
        "release, hold = os.pipe()\n"
        "pids = []\n"
        f"for _ in range({children}):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.close(hold)\n"
        "        os.read(release, 1)\n"
        "        os._exit(0)\n"
        "    pids.append(pid)\n"
        "os.close(hold)\n"
        "for pid in pids:\n"
        "    os.waitpid(pid, 0)\n"
        "print('contained')\n"
    )

    async def neighbour_later():
        await asyncio.sleep(0.5)  # once the hog holds its processes
        return await runner.judge(PYTHON, neighbour, ONE)

    verdicts = await asyncio.gather(runner.judge(PYTHON, hog, ONE), neighbour_later())
    assert [verdict.status for verdict in verdicts] == [Status.ACCEPTED, Status.ACCEPTED], verdicts


async def test_c_fork_bomb_never_exceeds_the_process_limit_on_the_host(runner):
    need(runner, C)
    uid = sandbox_uid(runner)
    if uid is None:
        pytest.skip("the server is not root: sandboxes run as its own user, whose processes cannot be told apart")
    bomb = "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n"
    with ProcessCounter(uid) as counter:
        verdict = await runner.judge(C, bomb, ONE, QUICK)
    assert verdict.status is Status.TIME_LIMIT_EXCEEDED, verdict
    # The sandbox's processes plus bwrap itself, which runs as the sandbox user on the host.
    assert counter.samples > 10
    assert 10 < counter.peak <= QUICK.processes + 1, counter.peak


async def test_memory_bombs_end_in_runtime_errors_within_the_limit(runner):
    need(runner, PYTHON)
    limits = SandboxLimits(memory_bytes=128 * MiB)
    python = "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 24))\n"
    cpp = "#include <cstring>\nint main() { for (;;) { char *p = new char[1 << 24]; std::memset(p, 1, 1 << 24); } }\n"
    java = (
        "import java.util.*;\n"
        "public class Main { public static void main(String[] a) {\n"
        "    List<long[]> hog = new ArrayList<>(); while (true) hog.add(new long[1 << 20]); } }\n"
    )
    jobs = {PYTHON: (python, Status.RUNTIME_ERROR_NZEC)}
    if runner.available(CPP):
        jobs[CPP] = (cpp, Status.RUNTIME_ERROR_SIGABRT)  # std::bad_alloc → std::terminate → abort
    if runner.available(JAVA):
        jobs[JAVA] = (java, Status.RUNTIME_ERROR_NZEC)  # OutOfMemoryError at -Xmx128m
    verdicts = await asyncio.gather(*(runner.judge(lang, src, ONE, limits) for lang, (src, _) in jobs.items()))
    for (language, (_, status)), verdict in zip(jobs.items(), verdicts, strict=True):
        assert verdict.status is status, (language, verdict)
        # The address-space limit holds natively; the JVM's limit is its heap, plus its own ~40 MiB.
        allowed = limits.memory_bytes + (64 * MiB if language == JAVA else 0)
        assert verdict.memory <= allowed // 1024, (language, verdict)


async def test_endless_loop_ignoring_sigxcpu_is_still_stopped(runner):
    need(runner, PYTHON)
    stubborn = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    verdict = await runner.judge(PYTHON, stubborn, ONE, CPU_BOUND)
    assert verdict.status is Status.TIME_LIMIT_EXCEEDED, verdict
    assert verdict.time > CPU_BOUND.cpu_seconds  # SIGXCPU ignored: killed at the hard limit, a second later


async def test_a_gigabyte_of_output_is_cut_at_the_cap(runner):
    need(runner, PYTHON)
    flood = "import sys\nblock = b'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.buffer.write(block)\n"
    verdict = await runner.judge(PYTHON, flood, ONE)
    assert verdict.status is Status.RUNTIME_ERROR_SIGXFSZ, verdict
    # Underneath: killed once the cap was passed, long before the gigabyte, and only the cap kept.
    limits = SandboxLimits(output_bytes=4 * MiB)
    with runner.sandbox.workspace() as workspace:
        workspace.write("flood.py", flood)
        python = resolve(TOOLCHAINS[PYTHON])["python3"]
        result = await runner.sandbox.run_async([python, "/box/flood.py"], box=workspace.box, limits=limits)
    assert result.output_exceeded and not result.wall_timeout
    assert len(result.stdout) == limits.output_bytes
    assert result.signal == 9 and result.exit_code is None


async def test_sleeping_past_the_wall_limit_is_stopped(runner):
    need(runner, PYTHON)
    verdict = await runner.judge(PYTHON, "import time\ntime.sleep(3600)\n", ONE, QUICK)
    assert verdict.status is Status.TIME_LIMIT_EXCEEDED, verdict


async def test_killing_its_parent_does_not_break_out(runner):
    need(runner, PYTHON)
    parricide = (
        "import os, signal\n"
        "for target in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "os.system('kill -9 1 2>/dev/null')\n"
        "print('contained')\n"
    )
    verdict = await runner.judge(PYTHON, parricide, ONE * 2)
    assert verdict.status is Status.ACCEPTED, verdict


def host_processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


async def test_background_processes_do_not_outlive_the_run(runner):
    need(runner, PYTHON)
    marker = "31.4159"
    daemon = (
        "import os, subprocess, sys\n"
        f"subprocess.Popen(['/usr/bin/sleep', '{marker}'], start_new_session=True,\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/usr/bin/sleep', ['sleep', '{marker}'])\n"
        "    os._exit(0)\n"
        "print('contained')\n"
    )
    verdict = await runner.judge(PYTHON, daemon, ONE)
    assert verdict.status is Status.ACCEPTED, verdict
    assert host_processes_with(marker) == []


async def test_hostile_compilations_are_compilation_errors(runner):
    need(runner, C)
    quick_compiles = SandboxRunner(
        sandbox=runner.sandbox, compile_limits=SandboxLimits(cpu_seconds=2.0, wall_seconds=4.0)
    )
    shadow = '#include "/etc/shadow"\nint main(void) { return 0; }\n'
    endless = "#include </dev/zero>\nint main(void) { return 0; }\n"
    verdicts = await asyncio.gather(quick_compiles.judge(C, shadow, ONE), quick_compiles.judge(C, endless, ONE))
    assert verdicts[0].status is Status.COMPILATION_ERROR and "No such file" in verdicts[0].compile_output
    assert verdicts[1].status is Status.COMPILATION_ERROR, verdicts[1]


async def test_the_machine_is_still_healthy(runner):
    need(runner, PYTHON)
    verdict = await runner.judge(PYTHON, "print(int(input()) * 2)\n", [TestCase("21\n", "42\n")])
    assert verdict.status is Status.ACCEPTED
    assert host_processes_with("/.supervisor") == []
