"""The real `peerprep` command and server, driven from outside with curl (as the README shows)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import TEST_SECRET
from tests.services import free_port

PEERPREP = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parent.parent


def _env(database_url: str, data_dir: Path, port: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "JWT_SECRET": TEST_SECRET,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "PYTHONPATH": str(ROOT),
    }


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited early: {server.stdout.read()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not come up within 30 s")


def curl(*args: str) -> tuple[int, dict | list | str]:
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30, check=True
    )
    body, _, code = result.stdout.rpartition("\n")
    try:
        return int(code), json.loads(body)
    except json.JSONDecodeError:
        return int(code), body


@pytest.fixture
def server(settings, tmp_path):
    """`peerprep migrate`, `create-admin` and `serve` on a free port against the test database."""
    port = free_port()
    env = _env(settings.database, tmp_path / "var", port)
    for command in (["migrate"], ["create-admin", "--username", "admin", "--email", "admin@example.com",
                                   "--password", "admin-pw"]):  # fmt: skip
        done = subprocess.run(PEERPREP + command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    process = subprocess.Popen(
        [*PEERPREP, "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM and wait, so the server shuts down the Ray it started; SIGKILL only as a last resort."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_register_login_me_create_question_filtered_list_with_curl(server, tmp_path):
    base, _ = server
    user_jar, admin_jar = str(tmp_path / "user.jar"), str(tmp_path / "admin.jar")
    json_header = ["-H", "content-type: application/json"]

    code, user = curl("-X", "POST", f"{base}/users/register", *json_header,
                      "-d", '{"username":"alice","email":"alice@example.com","password":"secret"}')  # fmt: skip
    assert code == 201 and user["username"] == "alice"
    code, _ = curl("-c", user_jar, "-X", "POST", f"{base}/users/login", *json_header,
                   "-d", '{"email":"alice@example.com","password":"secret"}')  # fmt: skip
    assert code == 200
    code, me = curl("-b", user_jar, f"{base}/users/me")
    assert code == 200 and me["id"] == user["id"]

    question = {
        "title": "Sum Of Two",
        "statement": "Print a+b.",
        "difficulty": "Easy",
        "topicNames": ["Math"],
        "solutionOutline": "Add.",
        "testCases": [{"input": "1 2\n", "output": "3\n"}],
    }
    code, refused = curl("-b", user_jar, "-X", "POST", f"{base}/questions", *json_header, "-d", json.dumps(question))
    assert code == 403 and refused == {"error": "Admin only"}
    code, _ = curl("-c", admin_jar, "-X", "POST", f"{base}/users/login", *json_header,
                   "-d", '{"email":"admin@example.com","password":"admin-pw"}')  # fmt: skip
    assert code == 200
    code, created = curl("-b", admin_jar, "-X", "POST", f"{base}/questions", *json_header, "-d", json.dumps(question))
    assert code == 201 and created["title"] == "Sum Of Two"
    code, listed = curl(
        "-b", user_jar, f"{base}/questions?difficulty=Easy&topicNames=Math,Arrays&orderBy=title&take=10"
    )
    assert code == 200 and [item["id"] for item in listed] == [created["id"]]
    code, empty = curl("-b", user_jar, f"{base}/questions?difficulty=Hard")
    assert code == 200 and empty == []


def test_docs_openapi_and_readiness_on_the_embedded_defaults(server):
    base, _ = server
    assert "swagger" in httpx.get(f"{base}/docs").text.lower()
    assert "/users/register" in httpx.get(f"{base}/openapi.json").json()["paths"]
    # Readiness may say 503 while the first host's Ray worker process starts (a cold cluster on a
    # busy machine takes seconds); it must turn ready, as a deployment's readiness probe expects.
    deadline = time.monotonic() + 60
    while (ready := httpx.get(f"{base}/ready", timeout=10)).status_code != 200 and time.monotonic() < deadline:
        assert ready.json()["checks"]["database"] == "ok", ready.text
        time.sleep(0.5)
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "ray": "ok"}, ready.text


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_server_stops_cleanly(server, stop_signal):
    """Graceful shutdown, no traceback. After SIGTERM uvicorn re-raises the signal once it has
    shut down, so the status is "terminated by SIGTERM", as supervisors expect."""
    base, process = server
    process.send_signal(stop_signal)
    assert process.wait(30) in (0, -stop_signal)
    output = process.stdout.read()
    assert "Shutting down" in output
    assert "Traceback" not in output
    assert f"serving {base}" in output


def test_no_token_or_credential_reaches_the_log(server):
    """A real server at LOG_LEVEL=info logs each WebSocket with its path: the token in its query,
    and credentials in headers, must not appear in any line."""
    base, process = server
    registered = httpx.post(f"{base}/users/register", json={"username": "logged", "email": "logged@example.com",
                                                            "password": "secret-pw"})  # fmt: skip
    assert registered.status_code == 201
    login = httpx.post(f"{base}/users/login", json={"email": "logged@example.com", "password": "secret-pw"})
    token = login.cookies["jwt_access_token"]

    async def connect_with_token() -> None:
        url = base.replace("http", "ws") + f"/ws/websocket?token={token}&access_token={token}"
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
            await socket.send("CONNECT\naccept-version:1.2\n\n\x00")
            assert (await socket.recv()).startswith("CONNECTED")

    asyncio.run(connect_with_token())
    assert httpx.get(f"{base}/users/me?token={token}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    stop(process)
    output = process.stdout.read()
    assert '"WebSocket /ws/websocket?token=[redacted]&access_token=[redacted]" [accepted]' in output
    assert token not in output and token.split(".")[2] not in output


async def test_create_admin_reads_the_password_from_stdin_and_warns_about_argv(harness, tmp_path):
    env = _env(harness.settings.database, tmp_path / "var", free_port())

    def create_admin(*extra: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        command = [*PEERPREP, "create-admin", "--username", "root", "--email", "root@example.com", *extra]
        return subprocess.run(command, env=env, cwd=tmp_path, input=stdin, stdin=None if stdin else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    piped = await asyncio.to_thread(create_admin, "--password-stdin", stdin="piped-secret\n")
    assert piped.returncode == 0 and "warning" not in piped.stderr, piped.stderr
    login = await harness.client.post("/users/login", json={"email": "root@example.com", "password": "piped-secret"})
    assert login.status_code == 200 and login.json()["isAdmin"] is True
    nothing = await asyncio.to_thread(create_admin)
    assert nothing.returncode == 2 and "--password-stdin" in nothing.stderr
    on_argv = await asyncio.to_thread(create_admin, "--password", "argv-secret")
    assert on_argv.returncode == 0 and "visible to every user in ps" in on_argv.stderr
