"""`/metrics` from a real server on real Ray: the numbers move when requests, rooms, verdicts,
matches, streams and sockets do; who may scrape; and the plain figures behind them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess

import httpx
import pytest
import pytest_asyncio
import ray
import websockets
from prometheus_client.parser import text_string_to_metric_families

from actors.clock import FakeClock
from actors.diagnostics import Ping
from actors.host import ActorHost, SharingFactory
from actors.matching.pool import MatchPool
from actors.matching.queue import MatchRequest
from api.app import create_app
from api.contest.stomp.frames import Frame, FrameParser, encode_frame
from api.core.security import TokenService
from judge.dispatch import JudgeBusy, JudgeQueue
from judge.interface import JudgeJob
from judge.testing import DeterministicTestJudge
from tests.conftest import TEST_SECRET, bearer, cookie, make_settings
from tests.contest.apps import contest_server, login, started_room, verdicts_settle
from tests.matching.test_matching_routes import sse_events
from tests.services import free_port
from tests.test_server_e2e import PEERPREP, _env, _wait_until_up, stop

on_server = pytest.mark.asyncio(loop_scope="module")
"""The tests that share one live server (and its event loop)."""

SCRAPE_TOKEN = "scrape-token-" + "s" * 20


class Scrape:
    """One parsed `/metrics` answer."""

    def __init__(self, text: str) -> None:
        self.samples = [sample for family in text_string_to_metric_families(text) for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
        )

    def has(self, name: str) -> bool:
        return any(sample.name == name for sample in self.samples)


async def scrape(http: httpx.AsyncClient, **headers: str) -> Scrape:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


async def scrape_until(http: httpx.AsyncClient, holds, patience: float = 15.0) -> Scrape:
    """Scrape until `holds(scrape)` (the server notices a closed socket on its own time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        current = await scrape(http)
        if holds(current):
            return current
        assert loop.time() < deadline, "the metrics never showed it"
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(ray_session, database_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("metrics")
    async with contest_server(database_url, data_dir, matching_heartbeat_seconds=0.2) as (base_url, http, app):
        yield base_url, http, app


@on_server
async def test_requests_are_counted_and_timed_by_route_template(server):
    _, http, _ = server
    before = await scrape(http)
    for _ in range(3):
        assert (await http.get("/health")).status_code == 200
    assert (await http.get("/no/such/page/12345")).status_code == 404
    user, auth = await login(http)
    assert (await http.get(f"/matching/status/{user}", headers=auth)).status_code in (200, 404)
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("peerprep_http_requests_total", method="GET", route="/health", status="200") == 3
    assert moved("peerprep_http_request_duration_seconds_count", method="GET", route="/health") == 3
    assert moved("peerprep_http_request_duration_seconds_sum", method="GET", route="/health") > 0
    assert moved("peerprep_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert moved("peerprep_http_requests_total", method="GET", route="/matching/status/{userId}") == 1
    assert not any("12345" in value or str(user) in value for s in after.samples for value in s.labels.values())
    assert after.value("process_resident_memory_bytes") > 0


@on_server
async def test_rooms_verdicts_and_hosts_show(server):
    _, http, _ = server
    before = await scrape(http)
    room_id, _, (_, guest_auth), problems = await started_room(http)
    for code in ("print('ACCEPT')", "print(42)"):
        body = {"roomId": room_id, "problemId": problems[0], "code": code, "languageId": 71}
        assert (await http.post("/rooms/submit", headers=guest_auth, json=body)).status_code == 200
    await verdicts_settle(http, room_id, guest_auth, 2)
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert after.value("peerprep_actor_directory_up") == 1
    assert after.value("peerprep_actor_hosts") >= 1 and after.value("peerprep_actor_hosts_unanswered") == 0
    assert after.value("peerprep_actor_host_capacity") > 0
    assert after.value("peerprep_actors_live", kind="room") >= 1
    assert moved("peerprep_contest_rooms_active") == 1
    assert moved("peerprep_actor_activations_total") >= 1
    assert moved("peerprep_actor_messages_total") >= 5  # join, start, a get, 2 submits
    assert moved("peerprep_http_requests_total", method="POST", route="/rooms/submit", status="200") == 2
    assert moved("peerprep_judge_verdicts_total", status="Accepted") == 1
    assert moved("peerprep_judge_verdicts_total", status="Wrong Answer") == 1
    assert moved("peerprep_judge_verdict_seconds_count") == 2
    assert moved("peerprep_judge_verdict_seconds_bucket", le="+Inf") == 2
    assert after.value("peerprep_judge_queue_depth") == 0 and after.value("peerprep_judge_in_flight") == 0
    assert after.value("peerprep_judge_concurrency") >= 1 and after.has("peerprep_judge_queue_limit")
    assert after.value("peerprep_judge_rejected_total") == 0


class RoomWatcher:
    """A raw STOMP WebSocket subscribed to a room's state, as a signed-in player."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.parser = FrameParser()

    @classmethod
    async def open(cls, base_url: str, room_id: int, auth: dict) -> RoomWatcher:
        socket = await websockets.connect(base_url.replace("http://", "ws://") + "/ws/websocket")
        watcher = cls(socket)
        headers = (("accept-version", "1.2"), ("heart-beat", "0,0"), ("Authorization", auth["Authorization"]))
        await socket.send(encode_frame(Frame("CONNECT", headers)).decode())
        assert (await watcher.frame()).command == "CONNECTED"
        subscribe = (("id", "state"), ("destination", f"/topic/room/{room_id}"))
        await socket.send(encode_frame(Frame("SUBSCRIBE", subscribe)).decode())
        assert (await watcher.frame()).command == "MESSAGE"
        return watcher

    async def frame(self) -> Frame:
        while (frame := self.parser.next_frame()) is None:
            self.parser.feed((await asyncio.wait_for(self.socket.recv(), 10)).encode())
        return frame

    async def until_solved(self, user_id: int, solved: int) -> None:
        while True:
            state = json.loads((await self.frame()).body)
            if any(row["userId"] == user_id and row["solved"] == solved for row in state["leaderboard"]):
                return


@on_server
async def test_a_verdicts_push_is_timed_on_each_socket_that_shows_it(server):
    base_url, http, _ = server
    room_id, (_, host_auth), (guest, guest_auth), problems = await started_room(http)
    watchers = [await RoomWatcher.open(base_url, room_id, auth) for auth in (host_auth, guest_auth)]
    try:
        before = await scrape(http)
        body = {"roomId": room_id, "problemId": problems[0], "code": "print('ACCEPT')", "languageId": 71}
        assert (await http.post("/rooms/submit", headers=guest_auth, json=body)).status_code == 200
        await asyncio.gather(*(watcher.until_solved(guest, 1) for watcher in watchers))
        count = "peerprep_contest_verdict_push_seconds_count"
        after = await scrape_until(http, lambda now: now.value(count) - before.value(count) >= 2)
    finally:
        for watcher in watchers:
            await watcher.socket.close()

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    # one observation per socket that was written the state counting the verdict, none for other states
    assert moved(count) == 2
    assert moved("peerprep_contest_verdict_push_seconds_bucket", le="+Inf") == 2
    assert moved("peerprep_contest_verdict_push_seconds_sum") > 0


@on_server
async def test_matching_streams_sessions_and_event_lag_show(server):
    _, http, _ = server
    (alice, alice_auth), (bob, bob_auth), (carol, carol_auth) = [await login(http) for _ in range(3)]
    sse_route = {"transport": "sse", "route": "/matching/events/{userId}"}
    before = await scrape(http)
    seen: list = []
    stream = asyncio.create_task(sse_events(http, alice, alice_auth, seen))
    try:
        await scrape_until(http, lambda now: now.value("peerprep_open_connections", **sse_route) == 1)
        ask = {"languageIn": "Python", "difficultyIn": "Easy", "ttlMs": 60_000}
        alone = {**ask, "userId": str(carol), "topicIn": f"alone-{carol}"}
        assert (await http.post("/matching/requests", json=alone, headers=carol_auth)).status_code == 202
        pair = {**ask, "topicIn": f"pair-{alice}"}
        await http.post("/matching/requests", json={**pair, "userId": str(alice)}, headers=alice_auth)
        matched = await http.post("/matching/requests", json={**pair, "userId": str(bob)}, headers=bob_auth)
        assert matched.status_code == 200, matched.text
        session_id = matched.json()["roomId"]
        joined = await http.post(f"/collab/sessions/{session_id}/join", headers=alice_auth)
        assert joined.status_code == 200, joined.text
        found = await scrape_until(http, lambda _: any(event == "MATCH_FOUND" for event, _ in seen))
    finally:
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream

    assert found.value("peerprep_matching_pool_waiting") - before.value("peerprep_matching_pool_waiting") == 1
    assert found.value("peerprep_actors_live", kind="pool") >= 1
    assert found.value("peerprep_actors_live", kind="collab") >= 1
    assert found.value("peerprep_event_bus_lag_seconds_count") > before.value("peerprep_event_bus_lag_seconds_count")
    assert found.value("peerprep_event_bus_delivered_total") > before.value("peerprep_event_bus_delivered_total")
    assert found.has("peerprep_event_bus_topics") and found.has("peerprep_event_bus_dropped_total")
    await scrape_until(http, lambda now: now.value("peerprep_open_connections", **sse_route) == 0)
    await http.post("/matching/cancel", json={"userId": str(carol)}, headers=carol_auth)


@on_server
@pytest.mark.parametrize(
    ("path", "route"),
    [("/ws/websocket", "/ws/websocket"), ("/ws/012/abcd/websocket", "/ws/{server}/{session}/websocket")],
)
async def test_open_websockets_are_counted(server, path, route):
    base_url, http, _ = server
    socket_route = {"transport": "websocket", "route": route}
    async with websockets.connect(base_url.replace("http://", "ws://") + path):
        await scrape_until(http, lambda now: now.value("peerprep_open_connections", **socket_route) == 1)
    await scrape_until(http, lambda now: now.value("peerprep_open_connections", **socket_route) == 0)


@on_server
async def test_a_directory_that_does_not_answer_shows_as_down_not_an_error(server):
    """Last on the shared server: it kills the host that keeps the directory (host-0)."""
    _, http, app = server
    config = app.state.services.actors.config
    ray.kill(ray.get_actor(config.directory_name, namespace=config.namespace), no_restart=True)
    after = await scrape(http)
    assert after.value("peerprep_actor_directory_up") == 0
    assert not after.has("peerprep_actor_hosts")
    assert after.has("peerprep_http_requests_total")


async def test_a_host_that_does_not_answer_is_counted_not_an_error(ray_session, database_url, tmp_path):
    """One actor per host, so that a second host (not the directory's) can die alone."""
    async with contest_server(database_url, tmp_path, actor_host_capacity=1) as (_, http, app):
        client, config = app.state.services.actors.client, app.state.services.actors.config
        for index in range(2):
            await client.ask(f"probe:metrics-{index}", Ping())
        hosts = await client.hosts()
        victim = max(client.host_of(f"probe:metrics-{index}") for index in range(2))
        assert victim != "host-0" and len(hosts) >= 2
        ray.kill(ray.get_actor(config.actor_name(victim), namespace=config.namespace), no_restart=True)
        after = await scrape(http)
        assert after.value("peerprep_actor_directory_up") == 1
        assert after.value("peerprep_actor_hosts") == len(hosts)
        assert after.value("peerprep_actor_hosts_unanswered") == 1
        assert after.value("peerprep_actor_host_capacity", host=victim) == 0
        assert after.value("peerprep_actor_host_capacity", host="host-0") == 1


@pytest_asyncio.fixture
async def guarded(settings, tmp_path):
    """A front without actors whose `/metrics` wants METRICS_TOKEN or an admin."""
    app = create_app(make_settings(settings.database, tmp_path, metrics_token=SCRAPE_TOKEN))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, app.state.services.tokens


async def test_metrics_token_or_an_admin_is_needed_when_set(guarded):
    client, tokens = guarded
    refused = await client.get("/metrics")
    assert refused.status_code == 401 and "METRICS_TOKEN" in refused.json()["error"]
    assert (await client.get("/metrics", headers=bearer("wrong-" + SCRAPE_TOKEN))).status_code == 401
    assert (await client.get("/metrics", headers=bearer(tokens.issue(7, "USER")))).status_code == 403
    assert (await client.get("/metrics", headers=bearer(SCRAPE_TOKEN))).status_code == 200
    assert (await client.get("/metrics", headers=bearer(tokens.issue(8, "ADMIN")))).status_code == 200
    admin_cookie = cookie("jwt_access_token", tokens.issue(8, "ADMIN"))
    scraped = await client.get("/metrics", headers=admin_cookie)
    assert scraped.status_code == 200
    # without actors there is nothing to ask the hosts; the front's own metrics are there
    assert Scrape(scraped.text).has("peerprep_http_requests_total")
    assert not Scrape(scraped.text).has("peerprep_actor_directory_up")


async def test_metrics_are_served_to_loopback_clients_without_a_token(harness):
    assert (await harness.client.get("/health")).status_code == 200
    assert (await scrape(harness.client)).value("peerprep_http_requests_total", route="/health") == 1


def _non_loopback_ipv4() -> str | None:
    found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    return next((address for address in found if "." in address and not address.startswith("127.")), None)


def test_without_a_token_metrics_refuse_clients_from_the_network(settings, tmp_path):
    """A real server bound to 0.0.0.0: reached by the machine's own non-loopback address, the
    client is not loopback and gets a 403; an admin's token still scrapes."""
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port = free_port()
    env = {**_env(settings.database, tmp_path / "var", port), "HOST": "0.0.0.0", "ACTORS_ENABLED": "false"}
    process = subprocess.Popen([*PEERPREP, "serve"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
        remote = httpx.get(f"http://{address}:{port}/metrics")
        assert remote.status_code == 403 and "METRICS_TOKEN" in remote.json()["error"]
        admin = TokenService(TEST_SECRET, 900).issue(1, "ADMIN")
        assert httpx.get(f"http://{address}:{port}/metrics", headers=bearer(admin)).status_code == 200
    finally:
        stop(process)


def test_a_short_metrics_token_is_refused(tmp_path):
    with pytest.raises(ValueError, match="metrics_token"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, metrics_token="short")


async def test_judge_queue_counts_waiting_refusals_and_verdict_times():
    now = [0.0]
    judge = DeterministicTestJudge(delay=0.01)
    queue = JudgeQueue(judge, concurrency=1, queue_limit=1, monotonic=lambda: now[0])
    queue.admit()
    queue.admit()
    with pytest.raises(JudgeBusy):
        queue.admit()
    first = asyncio.create_task(queue.judge(JudgeJob(1, 1, 71, "ACCEPT")))
    second = asyncio.create_task(queue.judge(JudgeJob(2, 1, 71, "nope")))
    await asyncio.sleep(0)
    assert {key: queue.stats()[key] for key in ("judging", "waiting", "rejected")} == {
        "judging": 1,
        "waiting": 1,
        "rejected": 1,
    }
    now[0] = 0.3
    await asyncio.gather(first, second)
    stats = queue.stats()
    assert stats["verdicts"] == {"Accepted": 1, "Wrong Answer": 1}
    times = stats["verdict_seconds"]
    assert times["count"] == 2 and times["sum"] == pytest.approx(0.6)
    assert dict(times["buckets"])[0.25] == 0 and dict(times["buckets"])[0.5] == 2
    assert (stats["judging"], stats["waiting"]) == (0, 0)


def test_host_stats_sum_actor_figures_by_kind_and_report_what_factories_share():
    clock = FakeClock()
    judge = JudgeQueue(DeterministicTestJudge(), concurrency=2, queue_limit=5)
    judge.admit()
    factories = {
        "pool": SharingFactory(lambda actor_id, context: MatchPool(actor_id, context, store=None), judge=judge.stats),
    }
    host = ActorHost(factories, clock)
    assert host.stats()["kinds"] == {"pool": {"live": 0}}
    for user_id, pool_id in enumerate(("pool:a", "pool:b", "pool:b"), start=1):
        host.activation(pool_id).queue.add(MatchRequest.of(user_id, ["Python"], ["Easy"], ["Arrays"]))
    stats = host.stats()
    assert stats["kinds"] == {"pool": {"live": 2, "waiting": 3}}
    assert stats["shared"]["judge"]["waiting"] == 1 and stats["shared"]["judge"]["concurrency"] == 2
