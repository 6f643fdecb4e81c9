"""Settings: validation with exit code 2 and one line, the generated JWT secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from pydantic import ValidationError

from api.settings import Settings, describe_validation_error


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PORT", "eighty", "PORT"),
        ("PORT", "70000", "PORT"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL"),
        ("REDIS_URL", "http://localhost", "REDIS_URL"),
        ("JWT_SECRET", "short", "JWT_SECRET"),
        ("MAX_BODY_BYTES", "-1", "MAX_BODY_BYTES"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL"),
        ("ACTOR_SLOW_BATCH_MS", "0", "ACTOR_SLOW_BATCH_MS"),
    ],
)
def test_bad_setting_exits_2_with_one_clear_line(tmp_path, variable, value, named):
    env = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"peerprep: invalid setting {named}:")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists()


def test_describe_names_every_failing_variable():
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, port="x", log_level="loud")
    line = describe_validation_error(caught.value)
    assert "PORT" in line and "LOG_LEVEL" in line and "\n" not in line


def test_jwt_secret_is_generated_once_with_private_mode(tmp_path):
    first = Settings(_env_file=None, data_dir=tmp_path).signing_key
    second = Settings(_env_file=None, data_dir=tmp_path).signing_key
    assert first == second and len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "jwt_secret").stat().st_mode)
    assert mode == 0o600
    assert Settings(_env_file=None, data_dir=tmp_path, jwt_secret="y" * 40).signing_key == "y" * 40


def test_database_defaults_to_sqlite_in_data_dir_and_normalizes_schemes(tmp_path):
    assert Settings(_env_file=None, data_dir=tmp_path).database == f"sqlite+aiosqlite:///{tmp_path / 'peerprep.db'}"
    pg = Settings(_env_file=None, database_url="postgresql://u@h/db").database
    assert pg == "postgresql+psycopg://u@h/db"


def test_generated_secret_differs_per_installation(tmp_path):
    """No key is built into the code: two fresh data directories get different secrets."""
    one = Settings(_env_file=None, data_dir=tmp_path / "one").signing_key
    two = Settings(_env_file=None, data_dir=tmp_path / "two").signing_key
    assert one != two


AUTH_SETTINGS = {
    "AUTH_FAILURE_WINDOW_SECONDS": "0",
    "AUTH_LOCKOUT_SECONDS": "0",
    "AUTH_LOCKOUT_MAX_SECONDS": "0",
    "AUTH_STRIKE_MEMORY_SECONDS": "-1",
    "LOGIN_FAILURES_PER_IP": "0",
    "LOGIN_FAILURES_PER_ACCOUNT": "0",
    "REGISTER_ATTEMPTS_PER_IP": "0",
    "REGISTER_ATTEMPTS_PER_EMAIL": "0",
    "REFRESH_FAILURES_PER_IP": "0",
    "REFRESHES_PER_ACCOUNT": "0",
    "ROOM_JOIN_FAILURES_PER_IP": "0",
    "ROOM_JOIN_FAILURES_PER_ACCOUNT": "0",
    "ROOM_JOIN_FAILURES_PER_ROOM": "0",
    "ROOM_JOIN_WINDOW_SECONDS": "0",
    "SESSION_CACHE_SECONDS": "61",
}


@pytest.mark.parametrize("variable", sorted(AUTH_SETTINGS))
def test_auth_limits_are_read_from_the_environment_and_bounded(monkeypatch, variable):
    monkeypatch.setenv(variable, "7")
    assert getattr(Settings(_env_file=None), variable.lower()) == 7
    monkeypatch.setenv(variable, AUTH_SETTINGS[variable])
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_auth_limits_reach_the_throttle_and_the_room():
    from api.core.auth_limits import AuthLimits
    from api.settings import contest_rules

    settings = Settings(_env_file=None, login_failures_per_account=2, room_join_failures_per_room=3)
    limits = AuthLimits.start(settings, None)
    assert [key.limit for key in limits.login("192.0.2.1", "a@example.com")] == [20, 2]
    assert contest_rules(settings).join_failures_per_window == 3


def test_frontend_url_is_one_origin_or_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("FRONTEND_URL", "http://localhost:3000/")
    assert Settings().frontend_origins == ("http://localhost:3000",)
    monkeypatch.setenv("FRONTEND_URL", "https://app.example, http://localhost:3000")
    assert Settings().frontend_origins == ("https://app.example", "http://localhost:3000")
    for bad in ("app.example", "https://app.example/path", ""):
        monkeypatch.setenv("FRONTEND_URL", bad)
        with pytest.raises(ValidationError, match="frontend_url"):
            Settings()
