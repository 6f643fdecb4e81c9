"""Two matched users edit one session's document with the real npm clients, through the actors.

@hocuspocus/provider (one user) and y-websocket (the other) against the live server: matched
over HTTP, concurrent inserts and deletes converge, a third user is refused, the host that
holds the session is killed mid-session and the clients carry on, and the code stored at
the end is the text they hold.
"""

from __future__ import annotations

import asyncio
import os
import signal

from actors.collab.session import session_actor_id
from persistence.models import CollabSession
from tests.conftest import bearer
from tests.contest.apps import contest_server
from tests.js_clients import EVENT_TIMEOUT_SECONDS, YjsClient, require_yjs_clients


async def converge(clients: list[YjsClient]) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2 * EVENT_TIMEOUT_SECONDS
    while True:
        states = [await client.state() for client in clients]
        texts = {state["text"] for state in states}
        if len(texts) == 1 and all(state["synced"] and state["unsynced"] in (0, None) for state in states):
            return texts.pop()
        assert loop.time() < deadline, f"no convergence: {states}"
        await asyncio.sleep(0.1)


async def test_matched_users_edit_together_survive_a_host_kill_and_the_end_stores_the_code(
    ray_session, database_url, tmp_path
):
    require_yjs_clients()
    async with contest_server(database_url, tmp_path, collab_snapshot_seconds=0.5) as (base_url, http, app):
        tokens = {}
        for user in (301, 302, 303):
            tokens[user] = (await http.post(f"/auth/login?userId={user}")).json()["token"]
        body = {"languageIn": "python", "difficultyIn": "Easy", "topicIn": "Arrays", "ttlMs": 60000}
        await http.post("/matching/requests", json={**body, "userId": "301"}, headers=bearer(tokens[301]))
        matched = await http.post("/matching/requests", json={**body, "userId": "302"}, headers=bearer(tokens[302]))
        session_id = matched.json()["roomId"]

        ws = base_url.replace("http", "ws")
        ann_spec = {"url": f"{ws}/collab/ws", "documents": [session_id], "token": tokens[301], "timeoutMs": 120000}
        bo_spec = {"url": f"{ws}/collab/yjs", "provider": "y-websocket", "documents": [session_id],
                   "token": tokens[302], "timeoutMs": 120000}  # fmt: skip
        cy_spec = {"url": f"{ws}/collab/ws", "documents": [session_id], "token": tokens[303], "timeoutMs": 60000}
        async with (
            YjsClient.start(ann_spec) as ann,
            YjsClient.start(bo_spec) as bo,
            YjsClient.start(cy_spec) as cy,
        ):
            await ann.wait_for("synced")
            await bo.wait_for("synced")
            refused = await cy.wait_for("authenticationFailed")
            assert "not a participant" in refused["reason"]

            for round_ in range(10):
                await ann.command(op="insert", index=0, text=f"a{round_} ")
                await bo.command(op="insert", index=10**6, text=f" b{round_}é")
                if round_ % 3 == 2:
                    await ann.command(op="delete", index=2, length=2)
                    await bo.command(op="delete", index=0, length=1)
            before_kill = await converge([ann, bo])
            assert "a9 " in before_kill and " b9é" in before_kill  # the last round, after every delete

            client = app.state.services.actors.client
            host = client.host_of(session_actor_id(session_id))
            pid = (await client.host_stats(host))["pid"]
            os.kill(pid, signal.SIGKILL)
            await ann.command(op="insert", index=0, text="after-kill ")
            await bo.command(op="insert", index=10**6, text=" tail")
            # The front relays both edits at once; the session, re-activated on a new host without
            # connections, refuses them, which resets both sockets: they reconnect and resync.
            await ann.wait_for("close")
            await bo.wait_for("close")
            after = await converge([ann, bo])
            assert after == "after-kill " + before_kill + " tail"  # nothing either client held was lost

            # The document the session actor holds now is the one the clients hold.
            live = (await http.get(f"/collab/sessions/{session_id}", headers=bearer(tokens[301]))).json()["data"]
            assert live["code"] == after
            ended = await http.post(f"/collab/sessions/{session_id}/end", headers=bearer(tokens[302]))
            assert ended.json()["data"]["status"] == "ENDED"
            assert ended.json()["data"]["code"] == after
            await bo.wait_for("closed")
        async with app.state.services.sessions() as session:
            row = await session.get(CollabSession, session_id)
        assert row.code == after and row.status == "ENDED"
