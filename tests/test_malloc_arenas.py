"""`peerprep serve` caps glibc's malloc arenas for itself and the processes it starts."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

# Eight threads allocate at once, then glibc's malloc_info (XML, one <heap> per arena) is counted.
ARENAS_USED = """
import ctypes, os, sys, tempfile, threading
from api.server.malloc_arenas import limit_malloc_arenas
if sys.argv[1] == "limit":
    limit_malloc_arenas()
start = threading.Barrier(8)
kept = []
def allocate():
    start.wait()
    kept.append([bytes(range(200)) * 20 for _ in range(500)])
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
path = tempfile.mktemp()
stream = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
print(open(path).read().count("<heap nr="), os.environ.get("MALLOC_ARENA_MAX"))
"""


def arenas_used(mode: str, **environment: str) -> tuple[int, str]:
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    run = subprocess.run([sys.executable, "-c", ARENAS_USED, mode], env={**env, "PYTHONPATH": str(ROOT), **environment},
                         capture_output=True, text=True, check=True)  # fmt: skip
    heaps, variable = run.stdout.split()
    return int(heaps), variable


def test_glibc_alone_gives_the_threads_arenas_of_their_own():
    heaps, variable = arenas_used("none")
    assert heaps > 2 and variable == "None"


def test_the_server_caps_its_own_arenas_and_passes_the_cap_to_what_it_starts():
    assert arenas_used("limit") == (2, "2")


def test_the_operators_value_wins():
    assert arenas_used("limit", MALLOC_ARENA_MAX="3") == (3, "3")
