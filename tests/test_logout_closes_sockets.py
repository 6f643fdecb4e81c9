"""Logout ends what a token already opened, not only what it would open next.

Real users (register + password login, so their tokens name a login) hold the real clients
open: @hocuspocus/provider and y-websocket on a matched session's document, @stomp/stompjs
over SockJS, and a matching SSE stream. Each user's logout closes that user's sockets and
streams within seconds and leaves the partner's alone. Then a login ended elsewhere (another
front, a password change: only the database knows) is found by the periodic check.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.core.live_sessions import LiveSessions
from api.core.security import TokenService
from persistence.database import create_engine, session_factory
from persistence.repositories import refresh_tokens
from tests.conftest import TEST_SECRET, bearer
from tests.contest.apps import contest_server
from tests.js_clients import StompClient, YjsClient, require_node_clients, require_yjs_clients

PASSWORD = "pw-logout-123"
LOGIN_ENDED = "your login has ended"


async def signed_in(http: httpx.AsyncClient, name: str) -> tuple[str, str]:
    """(user id, access token) of a new user after a password login."""
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert (await http.post("/users/register", json=body)).status_code == 201
    login = await http.post("/users/login", json={"email": body["email"], "password": PASSWORD})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    return str(login.json()["id"]), login.cookies["jwt_access_token"]


async def test_logout_closes_the_users_open_sockets_and_streams_and_only_theirs(ray_session, database_url, tmp_path):
    require_node_clients()
    require_yjs_clients()
    async with contest_server(database_url, tmp_path) as (base_url, http, app):
        ann_id, ann = await signed_in(http, "annie")
        bo_id, bo = await signed_in(http, "bobby")
        cy_id, cy = await signed_in(http, "cyril")
        request = {"languageIn": "python", "difficultyIn": "Easy", "topicIn": "Arrays", "ttlMs": 60000}
        await http.post("/matching/requests", json={**request, "userId": ann_id}, headers=bearer(ann))
        matched = await http.post("/matching/requests", json={**request, "userId": bo_id}, headers=bearer(bo))
        session_id = matched.json()["roomId"]

        ws = base_url.replace("http", "ws")
        ann_doc = {"url": f"{ws}/collab/ws", "documents": [session_id], "token": ann, "timeoutMs": 60000}
        bo_doc = {"url": f"{ws}/collab/yjs", "provider": "y-websocket", "documents": [session_id],
                  "token": bo, "timeoutMs": 60000}  # fmt: skip
        ann_stomp = {"url": f"{base_url}/ws", "token": ann, "timeoutMs": 60000}
        async with (
            YjsClient.start(ann_doc) as ann_editor,
            YjsClient.start(bo_doc) as bo_editor,
            StompClient.start(ann_stomp) as ann_feed,
            http.stream("GET", f"/matching/events/{cy_id}", headers=bearer(cy)) as cy_stream,
        ):
            await ann_editor.wait_for("synced")
            await bo_editor.wait_for("synced")
            await ann_feed.expect("connected")
            assert cy_stream.status_code == 200
            cy_lines = cy_stream.aiter_lines()
            assert await anext(cy_lines) == "event: heartbeat"
            watched = app.state.services.live_sessions.watched
            assert watched == 4  # ann's document and STOMP socket, bo's document, cy's stream

            assert (await http.post("/users/logout", headers=bearer(ann))).status_code == 200
            failed = await ann_editor.wait_for("authenticationFailed", within=5)
            assert LOGIN_ENDED in failed["reason"]
            error = await ann_feed.expect("error", within=5)
            assert LOGIN_ENDED in error["message"].lower()

            # Bo's document is still open and still relays.
            await bo_editor.command(op="insert", index=0, text="still here")
            await bo_editor.wait_for("text", text="still here")
            assert app.state.services.live_sessions.watched == 2

            assert (await http.post("/users/logout", headers=bearer(cy))).status_code == 200
            rest = [line async for line in cy_lines]  # the stream ends; nothing more is pushed
            assert "event: MATCH_FOUND" not in rest

            assert (await http.post("/users/logout", headers=bearer(bo))).status_code == 200
            closed = await bo_editor.wait_for("closed", within=5)
            assert closed["code"] == 4403 and LOGIN_ENDED in closed["reason"]
        assert app.state.services.live_sessions.watched == 0


async def test_a_login_ended_elsewhere_closes_the_sockets_here_within_the_check_interval(database_url, tmp_path):
    """What another front's logout or a password change leaves: only the database row says the
    login ended. The check (every `SESSION_CACHE_SECONDS`, at least 1 s) finds it and closes what
    watches it; a live login's watchers are left alone."""
    from api.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            _, ended_token = await signed_in(http, "dora")
            _, alive_token = await signed_in(http, "eli")
    tokens = TokenService(TEST_SECRET, 900)
    ended, alive = tokens.verify(ended_token).session_id, tokens.verify(alive_token).session_id
    engine = create_engine(database_url)
    sessions: async_sessionmaker = session_factory(engine)
    live = LiveSessions(tokens, sessions, cache_seconds=1.0)
    closed: list[str] = []
    try:
        live.watch(ended, lambda: closed.append("dora's socket"))
        live.watch(alive, lambda: closed.append("eli's socket"))
        stop_watching = live.watch(ended, lambda: closed.append("a socket already gone"))
        stop_watching()
        async with sessions() as session:
            await refresh_tokens.revoke_family(session, ended)
        for _ in range(50):
            if closed:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.2)  # one more check: nothing else is closed
        assert closed == ["dora's socket"]
        assert live.watched == 1
    finally:
        await live.close()
        await engine.dispose()
