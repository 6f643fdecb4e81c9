"""The sandbox's seccomp filter: a deny-list compiled to BPF with libseccomp (`pyseccomp`).

bubblewrap installs it (`--seccomp FD`) on the supervisor and so on every process of the
sandbox, after bwrap's own setup. What it refuses is the kernel surface a judged program never
needs and an escape would: debugging other processes, mounting, namespaces (`unshare`,
`setns`, and `clone` with a namespace flag), the kernel keyring, BPF, perf, userfaultfd,
io_uring, kernel modules and kexec, swap and reboot. Those calls fail with EPERM, so a
program sees an ordinary error. `clone3` fails with ENOSYS, because its flags sit in memory a
filter cannot read: glibc then falls back to `clone`, whose flags it can. System calls of
another ABI (i386 through `int 0x80`, x32) fail with EPERM as a whole, so a deny-list cannot
be bypassed through another architecture's numbers.
"""

from __future__ import annotations

import errno
import os
import tempfile

DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
)
"""Refused with EPERM."""

NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
"""`clone` with any of these is refused with EPERM."""


class SeccompUnavailable(RuntimeError):
    pass


def build_filter() -> bytes:
    """The filter as a BPF program for `bwrap --seccomp`; SeccompUnavailable says why it cannot be built."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # OSError: the binding is there, libseccomp.so.2 is not
        raise SeccompUnavailable(f"libseccomp is not usable ({error}); Debian: apt-get install libseccomp2") from error
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.ERRNO(errno.EPERM))
        for name in DENIED:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        for flag in NAMESPACE_FLAGS:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        with tempfile.TemporaryFile() as exported:
            rules.export_bpf(exported)
            exported.seek(0)
            program = exported.read()
    except (OSError, RuntimeError, ValueError) as error:
        raise SeccompUnavailable(f"libseccomp could not build the filter: {error}") from error
    if not program:
        raise SeccompUnavailable("libseccomp exported an empty filter")
    return program


def filter_fd(program: bytes) -> int:
    """A file descriptor bwrap can read `program` from (a memfd at offset 0); the caller closes it."""
    fd = os.memfd_create("peerprep-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, program)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
