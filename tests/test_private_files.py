"""The data directory is 0700 and the files the server writes 0600, made so or tightened at start-up."""

from __future__ import annotations

import os
import stat
import subprocess

from api.settings import Settings
from tests.services import free_port
from tests.test_server_e2e import PEERPREP, _env


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_data_directory_its_database_and_signing_key_are_private(tmp_path):
    data_dir = tmp_path / "var"
    env = _env("", data_dir, free_port())
    env.pop("DATABASE_URL")
    old_umask = os.umask(0o022)
    try:
        for command in (["migrate"], ["create-admin", "--username", "root", "--email", "root@example.com",
                                      "--password-stdin"]):  # fmt: skip
            done = subprocess.run(PEERPREP + command, env=env, cwd=tmp_path, input="root-pw\n", capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert Settings(_env_file=None, data_dir=data_dir, jwt_secret=None).signing_key  # written into data_dir
    finally:
        os.umask(old_umask)
    assert mode(data_dir) == 0o700
    written = sorted(path.name for path in data_dir.iterdir())
    assert "peerprep.db" in written and "jwt_secret" in written, written
    for path in data_dir.iterdir():
        assert mode(path) == 0o600, (path.name, oct(mode(path)))


def test_loose_modes_are_tightened_at_start_up_with_a_line_each(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    database = data_dir / "peerprep.db"
    env = _env("", data_dir, free_port())
    env.pop("DATABASE_URL")
    done = subprocess.run([*PEERPREP, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    os.chmod(data_dir, 0o755)
    os.chmod(database, 0o644)
    done = subprocess.run([*PEERPREP, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert mode(data_dir) == 0o700 and mode(database) == 0o600
    assert f"{data_dir} was mode 755, now 700" in done.stderr
    assert f"{database} was mode 644, now 600" in done.stderr
