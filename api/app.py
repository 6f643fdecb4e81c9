"""The FastAPI front: each feature's routers and sockets, the middleware, the error model and
the process-wide services."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Scope

from actors.hosting.gc_tuning import settle_heap
from api.attempts import router as attempts
from api.collab import router as collab
from api.collab.documents import collab_sockets
from api.contest import router as contest
from api.contest.feeds import contest_sockets
from api.contest.rooms import wake_live_rooms
from api.core import errors
from api.core.deps import ACCESS_COOKIE
from api.core.security import InvalidToken
from api.core.services import Services
from api.judging import router as judging
from api.judging import run as code_runner
from api.matching import router as matching
from api.operations import diagnostics, health, metrics
from api.questions import router as questions
from api.server import logs
from api.server.connection_caps import ConnectionCaps, Slot
from api.server.metrics import FrontMetrics, MetricsMiddleware
from api.server.middleware import BodyLimitMiddleware, RequestIdMiddleware
from api.server.origins import OriginPolicy
from api.server.socket_routes import SocketRoute, SocketRoutes
from api.settings import Settings
from api.users import dev_login, oauth
from api.users import router as users

DESCRIPTION = """
One server for both seed APIs: PeerPrep (users, questions, attempts, matching, collab)
and the 1v1 contest. Every error body is `{"error": "<message>"}`.
Protected routes take `Authorization: Bearer <JWT>` or the `jwt_access_token` cookie.
"""


class FrontApp(FastAPI):
    """The front: FastAPI, with the STOMP and collab sockets served outside its whole
    middleware stack (api/server/socket_routes.py), since each layer would keep a frame for the
    socket's life."""

    def __init__(self, *, metrics: FrontMetrics, settings: Settings, **options) -> None:
        super().__init__(**options)
        self.state.metrics = metrics
        self.state.origins = OriginPolicy(settings.frontend_origins)
        self.state.socket_caps = ConnectionCaps(settings.sockets_per_ip, settings.sockets_per_user, "sockets")
        self.state.stream_caps = ConnectionCaps(settings.sse_streams_per_ip, settings.sse_streams_per_user, "streams")
        # Set before the first request, when the stack is built.
        self.socket_routes: list[SocketRoute] = []

    def build_middleware_stack(self) -> ASGIApp:
        return SocketRoutes(super().build_middleware_stack(), self.socket_routes, self.state.metrics,
                            self.state.origins, self.state.socket_caps, self.socket_user)  # fmt: skip

    def admit_socket(self, connection: HTTPConnection) -> Slot:
        """A slot under the socket caps for a connection that is not a WebSocket (a SockJS HTTP session)."""
        client = connection.client
        return self.state.socket_caps.acquire(client.host if client else None, self.socket_user(connection.scope))

    def socket_user(self, scope: Scope) -> int | None:
        """The user a handshake's `?token=` or access cookie names, for the per-user socket cap."""
        connection = HTTPConnection(scope)
        token = connection.query_params.get("token") or connection.cookies.get(ACCESS_COOKIE)
        services = getattr(self.state, "services", None)
        if not token or services is None:
            return None
        try:
            return services.tokens.verify(token).user_id
        except InvalidToken:
            return None


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
            await wake_live_rooms(app.state.services)
        # Ray's import leaves a large heap; freezing it keeps full collections (and tail latency) short.
        settle_heap(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await app.state.services.close()

    app = FrontApp(metrics=front_metrics, settings=settings, title="PeerPrep game server", version="0.1.0",
                   description=DESCRIPTION, lifespan=lifespan)  # fmt: skip
    errors.install(app)
    routers = (
        health.router, users.router, users.legacy_router, questions.router, questions.legacy_router,
        attempts.router, attempts.legacy_router, matching.router, matching.legacy_router, matching.documented_router,
        collab.router, dev_login.router, contest.router, diagnostics.router, judging.router, code_runner.router,
        metrics.router, oauth.router,
    )  # fmt: skip
    for router in routers:
        app.include_router(router)
    oauth.install(app, settings)
    app.socket_routes = [*contest_sockets(app, settings, app.admit_socket), *collab_sockets()]
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.frontend_origins),
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Total-Count", "X-Request-ID", "Retry-After"],
    )
    app.add_middleware(MetricsMiddleware, metrics=front_metrics)
    app.add_middleware(RequestIdMiddleware)
    return app
