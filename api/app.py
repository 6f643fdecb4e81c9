"""The FastAPI front: routers, middleware, error model and the process-wide services."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp

from actors.hosting.gc_tuning import settle_heap
from api import errors, logs, rooms
from api.collab_links import SessionDocuments
from api.collab_ws.routes import collab_socket_routes
from api.metrics import FrontMetrics, MetricsMiddleware
from api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.room_feeds import RoomStompApplication
from api.routers import (
    attempts,
    collab,
    contest,
    dev_auth,
    diagnostics,
    health,
    judge0_callbacks,
    matching,
    metrics,
    oauth,
    questions,
    users,
)
from api.services import Services
from api.settings import Settings
from api.socket_routes import SocketRoute, SocketRoutes
from api.ws.routes import mount_ws
from api.ws.sockjs import SockJSLimits
from api.ws.stomp_session import StompLimits

DESCRIPTION = """
One server for both seed APIs: PeerPrep (users, questions, attempts, matching, collab)
and the 1v1 contest. Every error body is `{"error": "<message>"}`.
Protected routes take `Authorization: Bearer <JWT>` or the `jwt_access_token` cookie.
"""


def mount_stomp(app: FastAPI, settings: Settings) -> list[SocketRoute]:
    """`/ws`: SockJS and raw STOMP, serving the contest's room feeds; returns the WebSocket paths."""
    limits = StompLimits(
        max_frame_bytes=settings.stomp_max_frame_bytes,
        max_subscriptions=settings.stomp_max_subscriptions,
        heartbeat_send_ms=settings.stomp_heartbeat_ms,
        heartbeat_receive_ms=settings.stomp_heartbeat_ms,
        connect_timeout_seconds=settings.stomp_connect_timeout_seconds,
        outbound_queue_bytes=settings.stomp_outbound_queue_bytes,
    )
    sockjs = SockJSLimits(
        heartbeat_seconds=settings.sockjs_heartbeat_seconds, max_sessions=settings.sockjs_max_sessions
    )

    def resolve(connection: HTTPConnection) -> RoomStompApplication:
        services = connection.app.state.services
        if services.stomp is None:
            services.stomp = RoomStompApplication(services, connection.app.state.metrics.verdict_push.observe)
        return services.stomp

    return mount_ws(app, resolve, limits, sockjs)


def collab_documents(connection: HTTPConnection) -> SessionDocuments:
    """`/collab/ws` and `/collab/yjs/{id}` serve the collab session actors' documents."""
    services = connection.app.state.services
    if services.collab is None:
        services.collab = SessionDocuments(
            services,
            pending_limit=services.settings.collab_relay_pending_frames,
            flush_delay=services.settings.collab_flush_ms / 1000,
            local_flush_delay=services.settings.collab_local_flush_ms / 1000,
        )
    return services.collab


class FrontApp(FastAPI):
    """The front: FastAPI, with the STOMP and collab sockets served outside its whole
    middleware stack (api/socket_routes.py), since each layer would keep a frame for the
    socket's life."""

    def __init__(self, *, metrics: FrontMetrics, **options) -> None:
        super().__init__(**options)
        self.state.metrics = metrics
        # Set before the first request, when the stack is built.
        self.socket_routes: list[SocketRoute] = []

    def build_middleware_stack(self) -> ASGIApp:
        return SocketRoutes(super().build_middleware_stack(), self.socket_routes, self.state.metrics)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.configure(settings.log_level, settings.log_format)
    front_metrics = FrontMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = Services.start(settings)
        await app.state.services.start_actors()
        if app.state.services.actors is not None:
            front_metrics.watch(app.state.services.actors.bus)
            await rooms.wake_live_rooms(app.state.services)
        # Ray's import leaves a large heap; freezing it keeps full collections (and p99) short.
        settle_heap(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await app.state.services.close()

    app = FrontApp(metrics=front_metrics, title="PeerPrep game server", version="0.1.0", description=DESCRIPTION,
                   lifespan=lifespan)  # fmt: skip
    errors.install(app)
    routers = (health, users, questions, attempts, matching, collab, dev_auth, contest, diagnostics, judge0_callbacks,
               metrics, oauth)  # fmt: skip
    for router in (module.router for module in routers):
        app.include_router(router)
    oauth.install(app, settings)
    app.socket_routes = [*mount_stomp(app, settings), *collab_socket_routes(collab_documents)]
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.frontend_url],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Total-Count", "X-Request-ID", "Retry-After"],
    )
    app.add_middleware(MetricsMiddleware, metrics=front_metrics)
    app.add_middleware(RequestIdMiddleware)
    return app
