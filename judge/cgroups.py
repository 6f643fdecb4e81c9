"""A cgroup for every sandboxed run: its limits, what it used, and its end.

    parent = open_parent("auto", None)      # a CgroupParent, or a string saying why there is none
    run = parent.create(CgroupLimits(memory_bytes=256 * MiB, processes=64, cpu_cores=1.0))
    # a process enters by writing 0 to each of run.procs_files, before it forks anything
    run.cpu_seconds(); run.usage(); run.close()   # close: kill everything in it, remove it

A run's memory limit covers every process of the run and the tmpfs pages it wrote, with no
swap; its process limit counts every task; its CPU bandwidth is `cpu_cores` cores; CPU time
and peak memory are the cgroup's, so they cover every process the program made, reaped or not.

Two layouts, the same interface:

- **cgroup v2** (`memory.max`, `memory.swap.max`, `pids.max`, `cpu.max`, `cpu.stat`,
  `memory.peak`, `memory.events`, `cgroup.kill`): the parent is `JUDGE_CGROUP` (a delegated
  directory), else the mount root when it is writable (root), else the server's own cgroup
  when its `cgroup.subtree_control` can enable memory, pids and cpu (it cannot while it holds
  processes: the no-internal-processes rule). Each sandbox makes its own child
  `peerprep-judge-<pid>-<id>` there, and one `run-…` leaf in it per run.
- **cgroup v1 hybrid** (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
  `memory.max_usage_in_bytes`, `memory.oom_control`/`memory.failcnt`, `pids.max`,
  `cpu.cfs_quota_us`, `cpuacct.usage`): `peerprep-judge-<pid>-<id>/run-…` under this process's own
  cgroup of each controller, plus the same under the unified (cgroup2) hierarchy when it is
  mounted, whose `cgroup.kill` ends a run at once; without it the run's processes are killed
  until none is left.

Parents of processes that died (`peerprep-judge-<pid>-…` whose pid is gone) are killed and
removed when a new parent is opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

log = logging.getLogger("peerprep.judge.cgroups")

CONTROLLERS_V2 = ("memory", "pids", "cpu")
CONTROLLERS_V1 = ("memory", "pids", "cpu", "cpuacct")
PERIOD_US = 100_000
KILL_WAIT_SECONDS = 2.0
PREFIX = "peerprep-judge-"
CgroupMode = Literal["auto", "v2", "v1", "off"]
"""`JUDGE_CGROUPS`: find the best, insist on one, or run without (one submission at a time)."""
MODES: tuple[str, ...] = get_args(CgroupMode)


@dataclass(frozen=True)
class CgroupLimits:
    memory_bytes: int
    processes: int
    cpu_cores: float


@dataclass(frozen=True)
class CgroupUsage:
    cpu_seconds: float
    peak_memory_bytes: int
    memory_exceeded: bool
    """The memory limit was hit and the kernel's OOM killer ended a process of the run."""


class CgroupUnavailable(RuntimeError):
    pass


def _write(path: Path, value: str) -> None:
    with open(path, "w") as file:
        file.write(value)


def _keyed(path: Path) -> dict[str, int]:
    """A flat-keyed cgroup file (`key value` lines) as a dict; missing file → {}."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    pairs = (line.split() for line in lines)
    return {fields[0]: int(fields[1]) for fields in pairs if len(fields) == 2 and fields[1].isdigit()}


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _pids(directory: Path) -> list[int]:
    try:
        return [int(pid) for pid in (directory / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _remove(directory: Path) -> None:
    """rmdir, retried while the last killed processes are still leaving."""
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while True:
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                log.warning("could not remove cgroup %s: %s", directory, error)
                return
            time.sleep(0.005)


def _kill(directory: Path) -> None:
    """Kill every process in `directory` (cgroup.kill where there is one) and wait until none is left."""
    kill_file = directory / "cgroup.kill"
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while (pids := _pids(directory)) and time.monotonic() < deadline:
        if kill_file.exists():
            with contextlib.suppress(OSError):
                _write(kill_file, "1")
        else:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, 9)
        time.sleep(0.002)


class RunCgroup(ABC):
    """The cgroup(s) of one run."""

    procs_files: list[Path]
    """Writing 0 to each of these puts the writing process in the run."""

    @abstractmethod
    def cpu_seconds(self) -> float: ...

    @abstractmethod
    def usage(self) -> CgroupUsage: ...

    @abstractmethod
    def close(self) -> None:
        """Kill everything left in the run and remove its cgroup(s)."""


class CgroupParent(ABC):
    """Where this process makes its runs' cgroups."""

    version: str
    directories: list[Path]

    def __init__(self, bases: list[Path]) -> None:
        for base in bases:
            _reap_stale(base)
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.directories = [base / name for base in bases]
        for directory in self.directories:
            directory.mkdir(exist_ok=True)
        self._finalizer = weakref.finalize(self, _remove_all, list(self.directories))

    @property
    def where(self) -> str:
        return ", ".join(str(directory) for directory in self.directories)

    @abstractmethod
    def create(self, limits: CgroupLimits) -> RunCgroup: ...

    def close(self) -> None:
        self._finalizer()


def _remove_all(directories: list[Path]) -> None:
    for directory in directories:
        for child in directory.glob("run-*"):
            _kill(child)
            _remove(child)
        _remove(directory)


def _reap_stale(base: Path) -> None:
    for directory in base.glob(f"{PREFIX}*"):
        pid = directory.name[len(PREFIX) :].partition("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _remove_all([directory])


class V2Run(RunCgroup):
    def __init__(self, directory: Path, limits: CgroupLimits) -> None:
        self.directory = directory
        directory.mkdir()
        try:
            _write(directory / "memory.max", str(limits.memory_bytes))
            _write(directory / "memory.swap.max", "0")
            _write(directory / "pids.max", str(limits.processes))
            _write(directory / "cpu.max", f"{max(1000, round(limits.cpu_cores * PERIOD_US))} {PERIOD_US}")
        except OSError:
            _remove(directory)
            raise
        self.procs_files = [directory / "cgroup.procs"]

    def cpu_seconds(self) -> float:
        return _keyed(self.directory / "cpu.stat").get("usage_usec", 0) / 1e6

    def usage(self) -> CgroupUsage:
        events = _keyed(self.directory / "memory.events")
        peak = _read_int(self.directory / "memory.peak")
        return CgroupUsage(self.cpu_seconds(), peak, events.get("oom_kill", 0) > 0)

    def close(self) -> None:
        _kill(self.directory)
        _remove(self.directory)


class V2Parent(CgroupParent):
    version = "v2"

    def __init__(self, base: Path) -> None:
        _enable(base)
        super().__init__([base])
        try:
            _enable(self.directories[0])
        except CgroupUnavailable:
            self.close()
            raise

    def create(self, limits: CgroupLimits) -> RunCgroup:
        return V2Run(self.directories[0] / f"run-{uuid.uuid4().hex[:12]}", limits)


def _enable(directory: Path) -> None:
    """Enable memory, pids and cpu for `directory`'s children, or say why that cannot be done."""
    available = set((directory / "cgroup.controllers").read_text().split())
    missing = [name for name in CONTROLLERS_V2 if name not in available]
    if missing:
        raise CgroupUnavailable(f"{directory} lacks the {', '.join(missing)} controller(s) (not delegated to it)")
    enabled = set((directory / "cgroup.subtree_control").read_text().split())
    wanted = " ".join(f"+{name}" for name in CONTROLLERS_V2 if name not in enabled)
    if not wanted:
        return
    try:
        _write(directory / "cgroup.subtree_control", wanted)
    except OSError as error:
        hint = " (it holds processes: the no-internal-processes rule)" if error.errno == 16 else ""
        problem = f"cannot enable {wanted} in {directory}/cgroup.subtree_control: {error}{hint}"
        raise CgroupUnavailable(problem) from error


class V1Run(RunCgroup):
    def __init__(self, directories: dict[str, Path], unified: Path | None, limits: CgroupLimits) -> None:
        self.controllers = directories
        self.unified = unified
        self.all = list(dict.fromkeys([*directories.values(), *([unified] if unified else [])]))
        made: list[Path] = []
        try:
            for directory in self.all:
                directory.mkdir()
                made.append(directory)
            memory = directories["memory"]
            _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
            _write(directories["pids"] / "pids.max", str(limits.processes))
            _write(directories["cpu"] / "cpu.cfs_period_us", str(PERIOD_US))
            _write(directories["cpu"] / "cpu.cfs_quota_us", str(max(1000, round(limits.cpu_cores * PERIOD_US))))
        except OSError:
            for directory in reversed(made):
                _remove(directory)
            raise
        self.procs_files = [directory / "cgroup.procs" for directory in self.all]

    def cpu_seconds(self) -> float:
        return _read_int(self.controllers["cpuacct"] / "cpuacct.usage") / 1e9

    def usage(self) -> CgroupUsage:
        memory = self.controllers["memory"]
        oom = _keyed(memory / "memory.oom_control")
        exceeded = oom["oom_kill"] > 0 if "oom_kill" in oom else _read_int(memory / "memory.failcnt") > 0
        return CgroupUsage(self.cpu_seconds(), _read_int(memory / "memory.max_usage_in_bytes"), exceeded)

    def close(self) -> None:
        _kill(self.unified if self.unified is not None else self.controllers["memory"])
        for directory in self.all:
            _kill(directory)
            _remove(directory)


class V1Parent(CgroupParent):
    version = "v1 (hybrid)"

    def __init__(self, bases: dict[str, Path], unified: Path | None) -> None:
        ordered = list(dict.fromkeys([*bases.values(), *([unified] if unified else [])]))
        super().__init__(ordered)
        made = dict(zip(ordered, self.directories, strict=True))
        self.controllers = {name: made[base] for name, base in bases.items()}
        self.unified = made[unified] if unified else None

    def create(self, limits: CgroupLimits) -> RunCgroup:
        name = f"run-{uuid.uuid4().hex[:12]}"
        unified = self.unified / name if self.unified else None
        return V1Run({key: directory / name for key, directory in self.controllers.items()}, unified, limits)


@dataclass(frozen=True)
class _Mount:
    point: Path
    root: str
    kind: str
    options: frozenset[str]


def _mounts() -> list[_Mount]:
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            point = Path(fields[4].replace("\\040", " "))
            found.append(_Mount(point, fields[3], tail[0], frozenset(tail[2].split(",") + fields[5].split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            own[name] = path
    return own


def _inside(mount: _Mount, path: str) -> Path:
    relative = os.path.relpath(path, mount.root) if mount.root != "/" else path.lstrip("/")
    if relative.startswith(".."):
        raise CgroupUnavailable(f"this process's cgroup {path} is outside the mount {mount.point}")
    return mount.point / relative if relative != "." else mount.point


def _v2(path: str | None) -> V2Parent:
    if path is not None:
        return V2Parent(Path(path))
    mounts = [mount for mount in _mounts() if mount.kind == "cgroup2"]
    if not mounts:
        raise CgroupUnavailable("no cgroup2 filesystem is mounted")
    mount = mounts[0]
    own = _inside(mount, _own_cgroups().get("", "/"))
    reasons = []
    candidates = [mount.point] if os.access(mount.point / "cgroup.subtree_control", os.W_OK) else []
    for base in dict.fromkeys([*candidates, own]):
        try:
            return V2Parent(base)
        except (CgroupUnavailable, OSError) as error:
            reasons.append(str(error))
    raise CgroupUnavailable("; ".join(reasons) + " (set JUDGE_CGROUP to a delegated cgroup v2 directory)")


def _v1() -> V1Parent:
    mounts, own = _mounts(), _own_cgroups()
    bases = {}
    for name in CONTROLLERS_V1:
        mount = next((m for m in mounts if m.kind == "cgroup" and name in m.options), None)
        if mount is None or name not in own:
            raise CgroupUnavailable(f"the cgroup v1 {name} controller is not mounted")
        bases[name] = _inside(mount, own[name])
    unified_mount = next((m for m in mounts if m.kind == "cgroup2"), None)
    unified = _inside(unified_mount, own.get("", "/")) if unified_mount else None
    if unified is not None and not os.access(unified, os.W_OK):
        unified = None
    for name, base in bases.items():
        if not os.access(base, os.W_OK):
            raise CgroupUnavailable(f"{base} (cgroup v1 {name}) is not writable by this process")
    return V1Parent(bases, unified)


def _is_v1_hybrid() -> bool:
    return any(mount.kind == "cgroup" and "memory" in mount.options for mount in _mounts())


def open_parent(mode: str = "auto", path: str | None = None) -> CgroupParent | str:
    """The parent of this process's runs, or why there is none.

    `mode`: "auto" (v2 where the memory controller is not bound to v1, else v1), "v2", "v1",
    or "off"; `path`: the delegated v2 directory (JUDGE_CGROUP).
    """
    if mode not in MODES:
        return f"unknown cgroup mode {mode!r} (one of {', '.join(MODES)})"
    if mode == "off":
        return "cgroups are turned off (JUDGE_CGROUPS=off)"
    try:
        if mode == "v2" or (mode == "auto" and (path is not None or not _is_v1_hybrid())):
            return _v2(path)
        if path is not None:
            return f"JUDGE_CGROUP={path} needs cgroup v2 (JUDGE_CGROUPS=auto or v2)"
        return _v1()
    except (CgroupUnavailable, OSError) as error:
        return str(error)

