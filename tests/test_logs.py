"""Structured logs: LOG_FORMAT=json writes one JSON object per line, each carrying the id of the
request that produced it (taken from a safe `X-Request-ID`, else generated, and echoed)."""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import datetime

import httpx
import pytest
from uvicorn.config import LOGGING_CONFIG

from api.app import create_app
from api.server import logs
from tests.conftest import make_settings


@pytest.fixture
def restore_logging():
    """Put the root and uvicorn loggers back as they were (apps reconfigure logging)."""
    names = [None, *logs.UVICORN_LOGGERS]
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    level = logging.getLogger().level
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate
    logging.getLogger().setLevel(level)


def logging_app(tmp_path, log_format: str):
    """An app (no actors) with two routes of its own: one logs with extra fields, one fails."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}", tmp_path, log_level="info",
                             log_format=log_format)  # fmt: skip
    app = create_app(settings)

    @app.get("/note")
    async def note():
        logging.getLogger("peerprep.test").warning("noted %s", "this", extra={"room_id": 7})
        return {"ok": True}

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaput")

    return app


async def call(app, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path, headers=headers)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_json_lines_carry_the_request_id_and_extra_fields(tmp_path, capsys, restore_logging):
    app = logging_app(tmp_path, "json")
    noted = await call(app, "/note", **{"X-Request-ID": "req-json-1"})
    failed = await call(app, "/boom")
    assert noted.headers["x-request-id"] == "req-json-1"
    lines = json_lines(capsys.readouterr().err)

    note = next(line for line in lines if line["message"] == "noted this")
    assert (note["level"], note["logger"], note["request_id"], note["room_id"]) == (
        "WARNING",
        "peerprep.test",
        "req-json-1",
        7,
    )
    assert datetime.fromisoformat(note["time"]).tzinfo is not None

    generated = failed.headers["x-request-id"]
    assert failed.status_code == 500 and failed.json()["requestId"] == generated
    error = next(line for line in lines if line["logger"] == "peerprep.errors")
    assert error["level"] == "ERROR" and error["request_id"] == generated
    assert "RuntimeError: kaput" in error["exc_info"]


async def test_the_request_id_is_taken_only_when_safe_and_bounded(tmp_path, capsys, restore_logging):
    app = logging_app(tmp_path, "json")
    longest = "a" * 64
    assert (await call(app, "/note", **{"X-Request-ID": longest})).headers["x-request-id"] == longest
    too_long = await call(app, "/note", **{"X-Request-ID": "a" * 65})
    unsafe = await call(app, "/note", **{"X-Request-ID": "id\twith{json}"})
    for response in (too_long, unsafe):
        assert len(response.headers["x-request-id"]) == 32 and response.headers["x-request-id"].isalnum()
    ids = [line["request_id"] for line in json_lines(capsys.readouterr().err) if line["message"] == "noted this"]
    assert ids == [longest, too_long.headers["x-request-id"], unsafe.headers["x-request-id"]]


async def test_text_lines_name_the_request_id(tmp_path, capsys, restore_logging):
    app = logging_app(tmp_path, "text")
    await call(app, "/note", **{"X-Request-ID": "req-text-1"})
    line = next(line for line in capsys.readouterr().err.splitlines() if "noted this" in line)
    assert "WARNING peerprep.test [req-text-1] noted this" in line


def test_json_takes_over_uvicorns_loggers_and_logs_outside_requests_have_no_id(capsys, restore_logging):
    logging.config.dictConfig(LOGGING_CONFIG)  # what `uvicorn.run` does before it builds the app
    logs.configure("info", "json")
    logging.getLogger("uvicorn.error").info("Started server process")
    (line,) = json_lines(capsys.readouterr().err)
    assert (line["logger"], line["message"], line["request_id"]) == ("uvicorn.error", "Started server process", "-")


def test_an_unknown_log_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="log_format"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, log_format="xml")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_in_any_line_are_redacted_in_both_formats(capsys, restore_logging, log_format):
    logging.config.dictConfig(LOGGING_CONFIG)
    logs.configure("info", log_format)
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl"
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "1.2.3.4:5", f"/ws?token={jwt}&room=4")
    logging.getLogger("peerprep.test").warning("headers %s", {"authorization": f"Bearer {jwt}", "cookie": "sid=s3"})
    logging.getLogger("peerprep.test").warning("callback /auth/oauth-success?code=c0de&state=st4te&page=2")
    err = capsys.readouterr().err
    for secret in (jwt, "s3", "c0de", "st4te"):
        assert secret not in err
    assert "token=[redacted]&room=4" in err and "page=2" in err
