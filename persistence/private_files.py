"""The files the server writes (the data directory, the SQLite files, the generated signing key)
are its user's alone: directories 0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> None:
    """Create `path` (and its missing parents) with the directory itself 0700."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists, so that what writes it next (SQLite) does not
    create it with the umask's 0644; SQLite gives its -wal and -shm files the same mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def tighten(directory: Path, files: Iterable[Path] = ()) -> list[tuple[Path, int, int]]:
    """Take group and other access off `directory`, the regular files directly in it and `files`
    (those that exist); returns each path changed with its old and new mode."""
    changed = []
    candidates = [directory] if directory.is_dir() else []
    if candidates:
        candidates += [path for path in directory.iterdir() if path.is_file() and not path.is_symlink()]
    candidates += [path for path in files if path.is_file() and path not in candidates]
    for path in candidates:
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = PRIVATE_DIRECTORY if path.is_dir() else PRIVATE_FILE
        if mode & 0o077:
            path.chmod(mode & wanted)
            changed.append((path, mode, mode & wanted))
    return changed
