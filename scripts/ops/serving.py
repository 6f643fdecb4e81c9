"""Waiting for a front started as a child process to be ready, for the scripts and the tests."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


class FrontNotReady(RuntimeError):
    pass


def wait_ready(url: str, process: subprocess.Popen, patience: float, log: Path | None = None) -> None:
    """Return once `url` answers 200; raise FrontNotReady if the process exits or `patience` runs out."""
    where = f"; its log is {log}" if log is not None else ""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FrontNotReady(f"the front for {url} exited with {process.returncode}{where}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise FrontNotReady(f"the front at {url} was not ready within {patience:g} s{where}")
