"""How each language is compiled and run in the sandbox, keyed by Judge0 id (judge/languages.py).

The tools are looked up on the system PATH only (/usr/local/bin, /usr/bin, /bin: never a
pyenv shim or a user's directory, which the sandbox does not contain) and used by their real
path, so /etc/alternatives need not be inside the sandbox.

- 71 Python 3: `python3 -m py_compile` once, so a SyntaxError is a Compilation Error with
  Python's message (Judge0 would report it as a Runtime Error on the first test); tests run
  `python3 -I -B script.py` (isolated: no PYTHON* variables, no user site).
- 54 C++: `g++ -O2 -std=gnu++17 -pipe`; 50 C: `gcc -O2 -std=gnu11 -pipe … -lm`.
- 62 Java: `javac` to classes in the box, then `java -cp /box Main` (the class must be Main).
- 63 JavaScript: `node --check` once (a SyntaxError is a Compilation Error), then `node`.

Memory: natively (C, C++, Python) `memory_bytes` is the address-space limit. The JVM and V8
reserve far more address space than they use (code cache, class space, thread stacks, heap
reservations), so for them the heap is capped by the VM's own flag at `memory_bytes`
(`-Xmx`, `--max-old-space-size`) and RLIMIT_AS is raised by a fixed overhead (Java 1.5 GiB
with -Xss64m, node 1 GiB), with glibc's malloc arenas capped at 2 (MALLOC_ARENA_MAX) so
threads do not reserve 64 MiB each. The run's total memory (its cgroup's limit, every process
and its tmpfs together) is the heap plus `VM_MEMORY_OVERHEAD`. A VM heap overflow is then the VM's own error
(OutOfMemoryError: NZEC; V8's heap limit: SIGABRT).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from judge.languages import BY_ID, LanguageSpec
from judge.sandbox import COMPILE_LIMITS, RUN_LIMITS, SYSTEM_PATH, MiB, SandboxLimits

JAVA_ADDRESS_SPACE_OVERHEAD = 1536 * MiB
JAVAC_ADDRESS_SPACE_OVERHEAD = 1024 * MiB
NODE_ADDRESS_SPACE_OVERHEAD = 1024 * MiB
VM_MEMORY_OVERHEAD = 256 * MiB
"""What a VM uses beyond its heap (metaspace, code cache, thread stacks, GC structures): added to
the run's total memory (its cgroup's limit)."""
SANDBOX_ROOTS = ("/usr/", "/bin/", "/lib/", "/lib64/", "/sbin/")
VM_ENV = {"MALLOC_ARENA_MAX": "2"}
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xshare:auto", "-XX:ReservedCodeCacheSize=64m")
JVM_FLAGS += ("-XX:CompressedClassSpaceSize=64m", "-XX:MaxMetaspaceSize=256m")


@dataclass(frozen=True)
class Step:
    """One sandboxed command: compile (in /box, writable) or run a test (in /work, /box read-only)."""

    argv: list[str]
    limits: SandboxLimits
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    read_only: tuple[str, ...] = ()


Tools = dict[str, str]


@dataclass(frozen=True)
class LanguageLimits:
    """The limits of one language's compilation and of each of its test runs (settings
    `JUDGE_COMPILE_*`, `JUDGE_RUN_*` and `JUDGE_LANGUAGE_LIMITS`)."""

    compile: SandboxLimits = COMPILE_LIMITS
    run: SandboxLimits = RUN_LIMITS


@dataclass(frozen=True)
class Toolchain:
    spec: LanguageSpec
    tools: tuple[str, ...]
    compile: Callable[[Tools, SandboxLimits], Step]
    run: Callable[[Tools, SandboxLimits], Step]

    @property
    def source_file(self) -> str:
        return self.spec.source_file


def _mb(value: int) -> int:
    return max(1, value // MiB)


def _java_config() -> tuple[str, ...]:
    """The JDK's configuration (Debian links lib/jvm.cfg and conf/ into /etc/java-N-openjdk)."""
    return tuple(path for path in sorted(glob.glob("/etc/java-*")) if os.path.isdir(path))


def _vm(limits: SandboxLimits, overhead: int) -> SandboxLimits:
    if limits.address_space_bytes is None:
        limits = dataclasses.replace(limits, address_space_bytes=limits.memory_bytes + overhead)
    if limits.total_memory_bytes is None:
        limits = dataclasses.replace(limits, total_memory_bytes=limits.memory_bytes + VM_MEMORY_OVERHEAD)
    return limits


def _python_compile(tools: Tools, limits: SandboxLimits) -> Step:
    return Step([tools["python3"], "-I", "-m", "py_compile", "script.py"], limits)


def _python_run(tools: Tools, limits: SandboxLimits) -> Step:
    return Step([tools["python3"], "-I", "-B", "/box/script.py"], limits)


def _cpp_compile(tools: Tools, limits: SandboxLimits) -> Step:
    return Step([tools["g++"], "-O2", "-std=gnu++17", "-pipe", "-o", "main", "main.cpp"], limits)


def _c_compile(tools: Tools, limits: SandboxLimits) -> Step:
    return Step([tools["gcc"], "-O2", "-std=gnu11", "-pipe", "-o", "main", "main.c", "-lm"], limits)


def _native_run(tools: Tools, limits: SandboxLimits) -> Step:
    return Step(["/box/main"], limits)


def _java_compile(tools: Tools, limits: SandboxLimits) -> Step:
    flags = [f"-J{flag}" for flag in (*JVM_FLAGS, "-XX:TieredStopAtLevel=1", f"-Xmx{_mb(limits.memory_bytes)}m")]
    argv = [tools["javac"], *flags, "-encoding", "UTF-8", "-d", "/box", "Main.java"]
    return Step(argv, _vm(limits, JAVAC_ADDRESS_SPACE_OVERHEAD), dict(VM_ENV), _java_config())


def _java_run(tools: Tools, limits: SandboxLimits) -> Step:
    argv = [tools["java"], *JVM_FLAGS, f"-Xmx{_mb(limits.memory_bytes)}m", "-Xss64m", "-cp", "/box", "Main"]
    return Step(argv, _vm(limits, JAVA_ADDRESS_SPACE_OVERHEAD), dict(VM_ENV), _java_config())


def _node_compile(tools: Tools, limits: SandboxLimits) -> Step:
    return Step([tools["node"], "--check", "script.js"], _vm(limits, NODE_ADDRESS_SPACE_OVERHEAD), dict(VM_ENV))


def _node_run(tools: Tools, limits: SandboxLimits) -> Step:
    argv = [tools["node"], f"--max-old-space-size={_mb(limits.memory_bytes)}", "/box/script.js"]
    return Step(argv, _vm(limits, NODE_ADDRESS_SPACE_OVERHEAD), dict(VM_ENV))


TOOLCHAINS: dict[int, Toolchain] = {
    71: Toolchain(BY_ID[71], ("python3",), _python_compile, _python_run),
    54: Toolchain(BY_ID[54], ("g++",), _cpp_compile, _native_run),
    50: Toolchain(BY_ID[50], ("gcc",), _c_compile, _native_run),
    62: Toolchain(BY_ID[62], ("javac", "java"), _java_compile, _java_run),
    63: Toolchain(BY_ID[63], ("node",), _node_compile, _node_run),
}


def resolve(toolchain: Toolchain) -> Tools | str:
    """The real paths of the toolchain's programs, or why it cannot run in the sandbox."""
    tools: Tools = {}
    for name in toolchain.tools:
        found = shutil.which(name, path=SYSTEM_PATH)
        if found is None:
            return f"{toolchain.spec.name}: {name} is not installed in {SYSTEM_PATH}"
        real = os.path.realpath(found)
        if not real.startswith(SANDBOX_ROOTS):
            return f"{toolchain.spec.name}: {real} lies outside the system directories the sandbox contains"
        tools[name] = real
    return tools
