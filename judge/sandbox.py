"""One sandboxed process: the bubblewrap command line, its limits, and running it to the end.

A run is `bwrap`, unprivileged → `supervisor` (judge/supervisor.c, PID 1 of a fresh PID
namespace) → the program. When the server is root, bwrap is started as uid/gid 65534 with no
supplementary groups (through `setpriv`), so it builds its namespaces as an ordinary user
with user namespaces, and nothing in the sandbox is root on the host: RLIMIT_NPROC binds
(it does not for uid 0), counted per sandbox since each has its own user namespace. Otherwise
bwrap runs as the server's own user, likewise unprivileged. Inside there is:

- no network (own network namespace, loopback only), own IPC, UTS and cgroup namespaces,
  no further user namespaces, a new session (no terminal), an empty environment but for
  PATH, HOME, LANG and what the language adds;
- `/usr` and the /bin, /lib… links read-only, `/etc/ld.so.cache` and per-language config
  (e.g. /etc/java-17-openjdk) read-only, nothing else of /etc, no /root, /home, /work, /var;
  a fresh /proc of the sandbox's own PID namespace, a minimal read-only /dev (null, zero,
  random, urandom, tty, pts) with a small tmpfs /dev/shm; a read-only root;
- `/box`: the submission's directory (writable while compiling, read-only while running
  tests), `/work` (the current directory of a test run) and `/tmp`: size-capped tmpfs,
  fresh for every run.

Every run is in a cgroup of its own (judge/cgroups.py), entered by a shell that writes to its
`cgroup.procs` and then executes setpriv/bwrap, so nothing forks outside it: the memory of all
its processes and its tmpfs together (no swap), its tasks and its CPU bandwidth are capped
there, its CPU time (polled here, every process together) stops it at the CPU limit, and its
CPU time and memory peak are what a run reports. It is killed and removed at the end. Without
a usable cgroup (`cgroup_reason`) runs go one at a time. bwrap installs the seccomp filter
(judge/seccomp.py) on everything in the sandbox; without it the sandbox refuses to run.

Limits: RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_STACK and no
core dumps are set by the supervisor on the program alone; stdout and stderr are read here with
a byte cap; the wall clock is watched here. At either limit, or the cgroup's CPU limit, the
supervisor kills everything in the sandbox (kill(-1) from PID 1) and still reports; if it does
not within a grace period, the bwrap process group is SIGKILLed (--die-with-parent takes the
rest down). The supervisor's exit ends the PID namespace, so nothing the program started
outlives the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from judge.cgroups import CgroupLimits, CgroupParent, RunCgroup, open_parent
from judge.seccomp import SeccompUnavailable, build_filter, filter_fd
from judge.supervisor import Report, Supervisor, SupervisorUnavailable, parse_report

log = logging.getLogger("peerprep.judge.sandbox")

MiB = 1024 * 1024
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
NOBODY = 65534
STOP_GRACE_SECONDS = 2.0
STDERR_KEPT_BYTES = 64 * 1024
SANDBOX_SUPERVISOR = "/.supervisor"
CGROUP_POLL_SECONDS = 0.02
HOST_PROCESSES = 4
"""Tasks of a run's cgroup that are not the program's: the entering shell, bwrap, the supervisor."""
ENTER_CGROUP = 'for file in $PEERPREP_CGROUP_PROCS; do echo 0 > "$file" || exit 125; done; exec "$@"'
"""Run as root before anything forks: the process enters the run's cgroups, then becomes setpriv/bwrap."""


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed process. Every field can be set; the defaults suit a test run.

    `memory_bytes` is what the program may use. Natively (C, C++, Python) it is the address
    space limit; a VM (Java, node) gets it as its heap limit and a larger address space,
    `address_space_bytes`, set by the language (see judge/toolchains.py).
    `output_bytes` caps stdout and stderr together; `scratch_bytes` sizes each of the /work
    and /tmp tmpfs (their content is memory, outside RLIMIT_AS, so keep it small).
    `stack_bytes` is large for deep recursion; glibc also gives each new thread a stack of
    that size, so a native program under a 256 MiB address space gets only a few threads.
    `processes` counts threads too, and only the sandbox's own (its user namespace's).
    With cgroups, `total_memory_bytes` (default `memory_bytes`) caps the memory of every
    process of the run together with what it wrote to its tmpfs, `processes` caps the run's
    tasks, `cpu_seconds` the CPU time of all of them, and `cpu_cores` the cores they may use.
    """

    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_bytes: int = 256 * MiB
    address_space_bytes: int | None = None
    processes: int = 64
    file_size_bytes: int = 16 * MiB
    open_files: int = 64
    output_bytes: int = 8 * MiB
    stack_bytes: int = 64 * MiB
    scratch_bytes: int = 32 * MiB
    total_memory_bytes: int | None = None
    cpu_cores: float = 1.0

    @property
    def address_space(self) -> int:
        return self.address_space_bytes if self.address_space_bytes is not None else self.memory_bytes

    @property
    def total_memory(self) -> int:
        return self.total_memory_bytes if self.total_memory_bytes is not None else self.memory_bytes


RUN_LIMITS = SandboxLimits()
COMPILE_LIMITS = SandboxLimits(
    cpu_seconds=20.0,
    wall_seconds=40.0,
    memory_bytes=768 * MiB,
    processes=64,
    file_size_bytes=64 * MiB,
    open_files=256,
    output_bytes=1 * MiB,
    scratch_bytes=128 * MiB,
)


@dataclass(frozen=True)
class RunResult:
    """How one sandboxed process ended. `error` set means the sandbox failed, not the program."""

    exit_code: int | None = None
    signal: int | None = None
    cpu_seconds: float | None = None
    memory_kb: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    wall_timeout: bool = False
    cpu_timeout: bool = False
    memory_exceeded: bool = False
    output_exceeded: bool = False
    error: str | None = None


@dataclass
class Workspace:
    """A private host directory for one submission; `box` is owned by the sandbox user."""

    root: Path
    box: Path

    def write(self, name: str, text: str) -> Path:
        path = self.box / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        return path


class Sandbox:
    """Runs processes under bubblewrap; `reason` says why it cannot when `available` is false.

    Each run gets its own cgroup (judge/cgroups.py: `cgroups` is the mode, `cgroup_path` the
    delegated v2 directory). Where there is none, `cgroup_reason` says why, and runs go one
    at a time under the rlimits alone. Without the seccomp filter the sandbox refuses to run.
    """

    def __init__(
        self,
        work_root: str | None = None,
        sandbox_user: tuple[int, int] = (NOBODY, NOBODY),
        *,
        cgroups: str = "auto",
        cgroup_path: str | None = None,
    ) -> None:
        self.work_root = work_root
        self.user = sandbox_user if os.geteuid() == 0 else None
        self.reason: str | None = None
        self.supervisor: Supervisor | None = None
        self.cgroups: CgroupParent | None = None
        self.cgroup_reason: str | None = None
        self._serial = threading.Lock()
        self._seccomp = b""
        self.bwrap = shutil.which("bwrap", path=SYSTEM_PATH)
        self.setpriv = shutil.which("setpriv", path=SYSTEM_PATH)
        self._disable_userns = False
        gcc = shutil.which("gcc", path=SYSTEM_PATH)
        if self.bwrap is None:
            self.reason = "bubblewrap not installed: no bwrap on PATH (Debian: apt-get install bubblewrap)"
        elif gcc is None:
            self.reason = "gcc not installed: the sandbox's supervisor (judge/supervisor.c) is built with it"
        else:
            try:
                self.supervisor = Supervisor(gcc, work_root)
            except (SupervisorUnavailable, OSError, subprocess.SubprocessError) as error:
                self.reason = f"sandbox supervisor unavailable: {error}"
        if self.reason is None:
            try:
                self._seccomp = build_filter()
            except SeccompUnavailable as error:
                self.reason = f"the sandbox's seccomp filter cannot be built, so it refuses to run: {error}"
                log.error("%s", self.reason)
        if self.reason is None:
            parent = open_parent(cgroups, cgroup_path)
            if isinstance(parent, str):
                self.cgroup_reason = parent
                log.warning(
                    "the judge runs WITHOUT cgroups (%s): one sandboxed run at a time, limited per process only", parent
                )
            else:
                self.cgroups = parent
            self._disable_userns = "--disable-userns" in _bwrap_help(self.bwrap)
            self.reason = self._self_check()

    @property
    def available(self) -> bool:
        return self.reason is None

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.close()
        if self.cgroups is not None:
            self.cgroups.close()

    def _self_check(self) -> str | None:
        true = shutil.which("true", path=SYSTEM_PATH) or "/usr/bin/true"
        with self.workspace() as workspace:
            result = self.run([true], box=workspace.box, limits=RUN_LIMITS)
        if result.error is not None or result.exit_code != 0:
            return (
                f"bubblewrap cannot start a sandbox here ({result.error or result.exit_code}); it needs"
                " unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)"
            )
        return None

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Workspace]:
        root = Path(tempfile.mkdtemp(prefix="peerprep-judge-", dir=self.work_root))
        try:
            root.chmod(0o711)
            box = root / "box"
            box.mkdir(mode=0o700)
            if self.user is not None:
                os.chown(box, *self.user)
            yield Workspace(root, box)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def command(
        self,
        argv: Sequence[str],
        *,
        box: Path,
        writable_box: bool,
        limits: SandboxLimits,
        report_fd: int,
        stop_fd: int,
        seccomp_fd: int,
        env: Mapping[str, str],
        read_only: Sequence[str],
        cwd: str,
    ) -> list[str]:
        assert self.bwrap is not None and self.supervisor is not None
        command = [self.bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        command += ["--unshare-cgroup-try", "--as-pid-1", "--die-with-parent", "--new-session"]
        if self._disable_userns:
            command.append("--disable-userns")
        command += ["--hostname", "sandbox", "--clearenv"]
        for name, value in {"PATH": SYSTEM_PATH, "HOME": "/work", "LANG": "C.UTF-8", **env}.items():
            command += ["--setenv", name, value]
        command += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = f"/{name}"
            if os.path.islink(host):
                command += ["--symlink", os.readlink(host), host]
            elif os.path.isdir(host):
                command += ["--ro-bind", host, host]
        for path in ("/etc/ld.so.cache", *read_only):
            if os.path.exists(path):
                command += ["--ro-bind", path, path]
        command += ["--proc", "/proc", "--dev", "/dev", "--size", str(1 * MiB), "--tmpfs", "/dev/shm"]
        command += ["--remount-ro", "/dev"]
        command += ["--size", str(limits.scratch_bytes), "--tmpfs", "/tmp"]
        command += ["--size", str(limits.scratch_bytes), "--tmpfs", "/work"]
        command += ["--bind" if writable_box else "--ro-bind", str(box), "/box"]
        command += ["--ro-bind", str(self.supervisor.path), SANDBOX_SUPERVISOR]
        command += ["--chdir", cwd, "--remount-ro", "/", "--seccomp", str(seccomp_fd)]
        cpu = max(1, math.ceil(limits.cpu_seconds))
        command += [SANDBOX_SUPERVISOR, str(report_fd), str(stop_fd), str(cpu), str(cpu + 1)]
        command += [str(limits.address_space), str(limits.processes), str(limits.file_size_bytes)]
        command += [str(limits.open_files), str(limits.stack_bytes), "--", *argv]
        return command

    def run(
        self,
        argv: Sequence[str],
        *,
        box: Path,
        limits: SandboxLimits,
        writable_box: bool = False,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        read_only: Sequence[str] = (),
        cwd: str = "/work",
    ) -> RunResult:
        """Run `argv` in the sandbox to the end (blocking) with `stdin` as its input.

        `box` is mounted at /box (read-write if `writable_box`); `read_only` host paths are
        bound at the same place; `env` adds to PATH, HOME=/work and LANG=C.UTF-8.
        """
        if self.bwrap is None or self.supervisor is None:
            return RunResult(error=self.reason)
        options = {
            "box": box,
            "writable_box": writable_box,
            "limits": limits,
            "env": env or {},
            "read_only": read_only,
            "cwd": cwd,
        }
        if self.cgroups is None:
            with self._serial:
                return self._launch(argv, stdin, None, options)
        cgroup_limits = CgroupLimits(limits.total_memory, limits.processes + HOST_PROCESSES, limits.cpu_cores)
        try:
            cgroup = self.cgroups.create(cgroup_limits)
        except OSError as error:
            log.warning("sandbox failure: could not create the run's cgroup: %s", error)
            return RunResult(error=f"could not create the run's cgroup: {error}")
        try:
            result = self._launch(argv, stdin, cgroup, options)
            if result.error is not None:
                return result
            usage = cgroup.usage()
            return replace(
                result,
                cpu_seconds=usage.cpu_seconds,
                memory_kb=usage.peak_memory_bytes // 1024,
                memory_exceeded=usage.memory_exceeded,
            )
        finally:
            cgroup.close()

    def _launch(self, argv: Sequence[str], stdin: bytes, cgroup: RunCgroup | None, options: dict) -> RunResult:
        """Start bwrap (in `cgroup` before it can fork, when there is one) and supervise the run."""
        report_r, report_w = os.pipe()
        stop_r, stop_w = os.pipe()
        seccomp = filter_fd(self._seccomp)
        command = self.command(argv, report_fd=report_w, stop_fd=stop_r, seccomp_fd=seccomp, **options)
        identity = {}
        if self.user is not None and self.setpriv is not None:
            # setpriv drops to the sandbox user and execs bwrap: Popen can then use vfork, where
            # Popen(user=...) has to fork this whole process, which grows with its memory.
            uid, gid = self.user
            command = [self.setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *command]
        elif self.user is not None:
            identity = {"user": self.user[0], "group": self.user[1], "extra_groups": []}
        environment = {"PATH": SYSTEM_PATH}
        if cgroup is not None:
            command = ["/bin/sh", "-c", ENTER_CGROUP, "enter-cgroup", *command]
            environment["PEERPREP_CGROUP_PROCS"] = " ".join(str(path) for path in cgroup.procs_files)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(report_w, stop_r, seccomp),
                env=environment,
                cwd="/",
                start_new_session=True,
                **identity,
            )
        except OSError as error:
            os.close(report_r)
            os.close(stop_w)
            return RunResult(error=f"could not start bwrap: {error}")
        finally:
            os.close(report_w)
            os.close(stop_r)
            os.close(seccomp)
        meter = cgroup.cpu_seconds if cgroup is not None else None
        return _supervise(process, stdin, report_r, stop_w, options["limits"], meter)

    async def run_async(self, argv: Sequence[str], **options) -> RunResult:
        """`run` in a worker thread, so the event loop never waits on a sandbox."""
        return await asyncio.to_thread(self.run, argv, **options)


def _bwrap_help(bwrap: str) -> str:
    try:
        return subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


class _Streams:
    """stdout, stderr and the report pipe read together, stdin written, under the output cap."""

    def __init__(self, process: subprocess.Popen, stdin: bytes, report_fd: int, output_cap: int) -> None:
        assert process.stdin and process.stdout and process.stderr
        self.selector = selectors.DefaultSelector()
        self.output_cap = output_cap
        self.output_total = 0
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.report = bytearray()
        self._stdout_fd = process.stdout.fileno()
        self._stderr_fd = process.stderr.fileno()
        self._stdin = process.stdin
        self._stdin_fd = process.stdin.fileno()
        self._pending = memoryview(stdin)
        for fd in (self._stdout_fd, self._stderr_fd, report_fd):
            self.selector.register(fd, selectors.EVENT_READ)
        if stdin:
            os.set_blocking(self._stdin_fd, False)
            self.selector.register(self._stdin_fd, selectors.EVENT_WRITE)
        else:
            self._stdin.close()

    @property
    def open(self) -> bool:
        """Whether a pipe is still open: the last closes when bwrap and everything in it ended."""
        return any(key.fd != self._stdin_fd for key in self.selector.get_map().values())

    def pump(self, timeout: float) -> None:
        for key, _ in self.selector.select(max(timeout, 0.0)):
            if key.fd == self._stdin_fd:
                self._write_stdin()
                continue
            try:
                data = os.read(key.fd, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self.selector.unregister(key.fd)
            elif key.fd == self._stdout_fd:
                self.output_total += len(data)
                self.stdout += data[: max(self.output_cap - len(self.stdout), 0)]
            elif key.fd == self._stderr_fd:
                self.output_total += len(data)
                self.stderr += data[: max(STDERR_KEPT_BYTES - len(self.stderr), 0)]
            else:
                self.report += data

    def _write_stdin(self) -> None:
        try:
            written = os.write(self._stdin_fd, self._pending[: 1 << 16])
        except BlockingIOError:
            return
        except OSError:  # the program closed its stdin or ended: the rest of the input is not wanted
            written = len(self._pending)
        self._pending = self._pending[written:]
        if not self._pending:
            self.close_stdin()

    def close_stdin(self) -> None:
        if not self._stdin.closed:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(self._stdin_fd)
            with contextlib.suppress(OSError):
                self._stdin.close()

    def close(self) -> None:
        self.close_stdin()
        self.selector.close()


def _supervise(
    process: subprocess.Popen,
    stdin: bytes,
    report_fd: int,
    stop_fd: int,
    limits: SandboxLimits,
    meter: Callable[[], float] | None = None,
) -> RunResult:
    """Feed, read and time the run; stop it at a limit; reap bwrap. Closes `report_fd` and `stop_fd`.

    `meter` is the run's CPU time so far (its cgroup's, every process together), polled here:
    over `limits.cpu_seconds` stops the run.
    """
    streams = _Streams(process, stdin, report_fd, limits.output_bytes)
    deadline = time.monotonic() + limits.wall_seconds
    stop_deadline: float | None = None
    wall_timeout = cpu_timeout = output_exceeded = killed = False
    poll = CGROUP_POLL_SECONDS if meter is not None else 0.5
    try:
        while streams.open:
            now = time.monotonic()
            if stop_deadline is None:
                wall_timeout = now >= deadline
                output_exceeded = streams.output_total > limits.output_bytes
                cpu_timeout = meter is not None and meter() > limits.cpu_seconds
                if wall_timeout or output_exceeded or cpu_timeout:
                    os.close(stop_fd)  # the supervisor kills everything in the sandbox, then reports
                    stop_fd = -1
                    streams.close_stdin()
                    stop_deadline = now + STOP_GRACE_SECONDS
            elif now >= stop_deadline:
                _kill_group(process.pid)
                killed = True
                break
            streams.pump(min((deadline if stop_deadline is None else stop_deadline) - now, poll))
    finally:
        streams.close()
        process.stdout.close()
        process.stderr.close()
        os.close(report_fd)
        if stop_fd >= 0:
            os.close(stop_fd)
    status, host_usage = _reap(process)
    report = parse_report(bytes(streams.report).split(b"\n", 1)[0]) if streams.report else None
    common = {
        "stdout": bytes(streams.stdout),
        "stderr": bytes(streams.stderr),
        "wall_timeout": wall_timeout,
        "cpu_timeout": cpu_timeout,
        "output_exceeded": output_exceeded,
    }
    if isinstance(report, Report):
        return RunResult(
            exit_code=report.exit_code,
            signal=report.signal,
            cpu_seconds=report.cpu_seconds,
            memory_kb=report.memory_kb,
            **common,
        )
    if wall_timeout or output_exceeded or cpu_timeout:
        # Stopped, and the supervisor did not answer in time: what bwrap's tree used is all we know.
        return RunResult(
            signal=signal.SIGKILL,
            cpu_seconds=host_usage.ru_utime + host_usage.ru_stime if host_usage else None,
            memory_kb=host_usage.ru_maxrss if host_usage else None,
            **common,
        )
    detail = report if isinstance(report, str) else f"bwrap ended with status {status} and no report"
    stderr_tail = bytes(streams.stderr[-500:]).decode("utf-8", "replace").strip()
    error = f"{detail}{': ' + stderr_tail if stderr_tail else ''}{' (killed)' if killed else ''}"
    log.warning("sandbox failure: %s", error)
    return RunResult(error=error, **common)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _reap(process: subprocess.Popen) -> tuple[int | None, os.struct_rusage | None]:
    """Wait for bwrap, killing its process group if it lingers; its exit status and resource usage."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    options = os.WNOHANG
    while True:
        try:
            pid, status, usage = os.wait4(process.pid, options)
        except ChildProcessError:
            return process.returncode, None
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage
        if time.monotonic() >= deadline:
            _kill_group(process.pid)
            options = 0
        else:
            time.sleep(0.001)
