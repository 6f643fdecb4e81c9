"""The error model: 4xx with {"error": ...} for bad input, 413 over the body limit, opaque 500s."""

from __future__ import annotations

import logging

import httpx

from api.app import create_app
from tests.conftest import bearer, make_settings


async def test_malformed_json_and_wrong_types_are_400(harness):
    broken = await harness.client.post(
        "/users/register", content=b'{"username": "x",', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "Malformed JSON body"
    wrong_type = await harness.client.post("/users/register", json=["not", "an", "object"])
    assert wrong_type.status_code == 400 and wrong_type.json()["error"].startswith("Invalid request")
    unknown_field = await harness.client.post(
        "/users/register",
        json={"username": "abc", "email": "a@example.com", "password": "abc", "admin": True},
    )
    assert unknown_field.status_code == 400


async def test_unknown_route_and_method_use_the_error_model(harness):
    missing = await harness.client.get("/no/such/route")
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    wrong_method = await harness.client.delete("/users/register")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


async def test_body_over_the_limit_is_413_and_loses_nothing(harness, database_url, tmp_path):
    app = create_app(make_settings(database_url, tmp_path, max_body_bytes=2048))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ok = await client.post(
                "/users/register", json={"username": "sam", "email": "sam@example.com", "password": "abc"}
            )
            assert ok.status_code == 201
            big = {"username": "big", "email": "big@example.com", "password": "x" * 4096}
            declared = await client.post("/users/register", json=big)
            assert declared.status_code == 413
            assert declared.json() == {"error": "Request body exceeds the limit of 2048 bytes"}

            async def chunks():
                yield b'{"username": "big", "email": "big@example.com", "password": "'
                for _ in range(8):
                    yield b"x" * 512
                yield b'"}'

            streamed = await client.post(
                "/users/register", content=chunks(), headers={"content-type": "application/json"}
            )
            assert streamed.status_code == 413
            assert streamed.json()["error"].startswith("Request body exceeds")
            login = await client.post("/users/login", json={"email": "sam@example.com", "password": "abc"})
            assert login.status_code == 200
            assert (
                await client.post("/users/login", json={"email": "big@example.com", "password": "x"})
            ).status_code == 401


async def test_unhandled_error_is_an_opaque_500_logged_with_request_id(harness, caplog):
    @harness.app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals: password=hunter2")

    with caplog.at_level(logging.ERROR, logger="peerprep.errors"):
        response = await harness.client.get("/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.json() == {"error": "Something went wrong", "requestId": "req-42"}
    assert "hunter2" not in response.text
    assert any("req-42" in record.getMessage() for record in caplog.records)
    assert "hunter2" in caplog.text  # the log keeps the traceback for the operator


async def test_request_id_is_echoed_or_generated(harness):
    given = await harness.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await harness.client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces" and len(generated.headers["x-request-id"]) == 32


async def test_path_ids_of_wrong_type_are_400(harness):
    token = await harness.token_for("tess")
    for path in ("/questions/abc", "/attempts/xyz", "/users/1.5"):
        response = await harness.client.get(path, headers=bearer(token))
        assert response.status_code == 400, path
        assert "error" in response.json()
