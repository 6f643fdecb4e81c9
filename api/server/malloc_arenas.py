"""How many malloc arenas the server's processes use (glibc's `MALLOC_ARENA_MAX`).

glibc gives threads that allocate under contention arenas of their own, up to eight per core,
and memory freed in one arena is not reused by another. A front or a Ray host runs a dozen
threads (Ray's core worker, gRPC, the event loop), so what one room's set-up frees in one arena
stays mapped while the next room is built in another. The server's Python code runs under the
GIL, so a few arenas cost it little contention (`scripts/bench room-setup` compares memory
and latency with 1, 2 and glibc's default).
"""

from __future__ import annotations

import ctypes
import os
import platform

VARIABLE = "MALLOC_ARENA_MAX"
DEFAULT_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def limit_malloc_arenas() -> None:
    """`DEFAULT_ARENAS` unless the environment sets `MALLOC_ARENA_MAX`: in the environment for the
    processes this one starts (Ray's, uvicorn's workers), and through `mallopt` for this process,
    whose glibc read the environment before this ran. Nothing off glibc."""
    if VARIABLE in os.environ or platform.libc_ver()[0] != "glibc":
        return
    os.environ[VARIABLE] = str(DEFAULT_ARENAS)
    ctypes.CDLL(None).mallopt(M_ARENA_MAX, DEFAULT_ARENAS)
