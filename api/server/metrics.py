"""The front's own Prometheus metrics: HTTP requests and latencies by route template, open
WebSocket and SSE connections, the event bus's delivery lag, and the contest's submit → push time.

They live in a registry of the app's own, not prometheus_client's global default: several
apps in one process (tests) do not collide, and with `peerprep serve --workers N` each
worker process counts (and `/metrics` shows) only what that worker served.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, disable_created_metrics

from actors.events.bus import EventBus

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PUSH_BUCKETS = (*(ms / 1000 for ms in range(2, 31)), 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Millisecond steps up to 30 ms: the contest's target for a judged submission's push is 15 ms."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route label of requests no route matched (404s, slash redirects), so raw paths never become labels."""


class FrontMetrics:
    def __init__(self) -> None:
        disable_created_metrics()  # process-wide: no `*_created` series beside every counter and histogram
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "peerprep_http_requests",
            "HTTP requests answered by this front, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "peerprep_http_request_duration_seconds",
            "Time to answer an HTTP request (an event stream: time until it opened), by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.open_connections = Gauge(
            "peerprep_open_connections",
            "WebSocket and SSE (text/event-stream) connections open on this front, by transport and route template",
            ["transport", "route"],
            registry=self.registry,
        )
        self.event_lag = Histogram(
            "peerprep_event_bus_lag_seconds",
            "Seconds from an actor publishing an event to this front receiving it (wall clocks of both processes)",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.verdict_push = Histogram(
            "peerprep_contest_verdict_push_seconds",
            "Seconds from a front receiving a submission to a front writing the room state that counts its verdict"
            " to one of the room's sockets (judging included; wall clocks of both fronts)",
            buckets=PUSH_BUCKETS,
            registry=self.registry,
        )
        self._answered: dict[tuple[str, str, int], tuple] = {}
        """(method, route, status) → its counter and latency children: `labels()` costs microseconds."""

    def watch(self, bus: EventBus) -> None:
        bus.on_lag = self.event_lag.observe

    def answered(self, method: str, route: str, status: int, seconds: float | None) -> None:
        """Count one answered request; `seconds` is None where its latency was already observed."""
        children = self._answered.get((method, route, status))
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._answered[method, route, status] = children
        children[0].inc()
        if seconds is not None:
            children[1].observe(seconds)


def route_template(scope) -> str:
    """The path template of the route that served `scope` (`/rooms/{room_id}`), set by the router."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


def _is_event_stream(start_message) -> bool:
    for name, value in start_message.get("headers", ()):
        if name.lower() == b"content-type":
            return value.startswith(b"text/event-stream")
    return False


class MetricsMiddleware:
    """Pure ASGI: counts and times HTTP requests, and counts open WebSockets and event streams.

    Each request's arrival (wall clock) is in `request.state.received_at`, for timings that
    end in another process or on another socket (the contest's verdict push).
    """

    def __init__(self, app, metrics: FrontMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            return await self._http(scope, receive, send)
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _http(self, scope, receive, send):
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        started = time.perf_counter()
        scope.setdefault("state", {})["received_at"] = time.time()
        status = 500
        stream_route: str | None = None

        async def observing_send(message):
            nonlocal status, stream_route
            if message["type"] == "http.response.start":
                status = message["status"]
                if _is_event_stream(message):
                    stream_route = route_template(scope)
                    self.metrics.latency.labels(method, stream_route).observe(time.perf_counter() - started)
                    self.metrics.open_connections.labels("sse", stream_route).inc()
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            if stream_route is None:
                self.metrics.answered(method, route_template(scope), status, time.perf_counter() - started)
            else:
                self.metrics.open_connections.labels("sse", stream_route).dec()
                self.metrics.answered(method, stream_route, status, None)

    async def _websocket(self, scope, receive, send):
        counted = CountedWebSocket(self.metrics, scope, send)
        try:
            await self.app(scope, receive, counted.send)
        finally:
            counted.ended()


class CountedWebSocket:
    """One WebSocket in the open-connections gauge, from its accept (seen on its ASGI `send`) to `ended()`."""

    __slots__ = ("_send", "metrics", "route", "scope")

    def __init__(self, metrics: FrontMetrics, scope, send) -> None:
        self.metrics = metrics
        self.scope = scope
        self._send = send
        self.route: str | None = None

    async def send(self, message) -> None:
        if message["type"] == "websocket.accept" and self.route is None:
            self.route = route_template(self.scope)
            self.metrics.open_connections.labels("websocket", self.route).inc()
        await self._send(message)

    def ended(self) -> None:
        if self.route is not None:
            self.metrics.open_connections.labels("websocket", self.route).dec()
