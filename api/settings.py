"""Server settings, read once from the environment (and an optional `.env`).

Every limit the server enforces is a field here, so operators can see and change it.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from judge.cgroups import CgroupMode
from persistence.private_files import private_directory

if TYPE_CHECKING:
    from actors.contest.rules import ContestRules
    from actors.hosting.config import RuntimeConfig
    from actors.kinds import KindsConfig
    from api.server.http_limits import HeaderLimits
    from judge.backends import SandboxConfig

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
JudgeLanguage = Literal["python", "c", "cpp", "java", "javascript"]


class StepLimitOverrides(BaseModel):
    """Some limits of one sandbox step (a compilation or a test run); unset ones keep the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpu_seconds: PositiveFloat | None = None
    wall_seconds: PositiveFloat | None = None
    memory_mb: PositiveInt | None = None
    processes: PositiveInt | None = None
    cpu_cores: PositiveFloat | None = None


class LanguageLimitOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    compile: StepLimitOverrides = StepLimitOverrides()
    run: StepLimitOverrides = StepLimitOverrides()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8081, ge=1, le=65535)
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    ray_address: str | None = None
    ray_node_ip: str | None = None
    judge0_url: str | None = None
    judge0_auth_token: str | None = None
    judge0_callback_url: str | None = None
    jwt_secret: str | None = Field(None, min_length=32)
    dev_login: bool = False
    frontend_url: str = "http://localhost:3000"

    access_token_ttl_seconds: PositiveInt = 15 * 60
    refresh_token_ttl_seconds: PositiveInt = 7 * 24 * 3600
    cookie_secure: bool = False
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    refresh_reuse_grace_seconds: Annotated[float, Field(ge=0, le=60)] = 10.0
    session_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 5.0

    oidc_issuer: str = "https://accounts.google.com"
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_provider_name: str = Field("GOOGLE", min_length=1, max_length=32)
    oidc_redirect_url: str | None = None
    oidc_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    oidc_clock_skew_seconds: Annotated[int, Field(ge=0)] = 60
    oidc_login_ttl_seconds: PositiveInt = 600

    argon2_time_cost: PositiveInt = 3
    argon2_memory_kib: Annotated[int, Field(ge=8)] = 64 * 1024
    argon2_parallelism: PositiveInt = 1
    auth_failure_window_seconds: Annotated[float, Field(gt=0)] = 300.0
    auth_lockout_seconds: Annotated[float, Field(gt=0)] = 60.0
    auth_lockout_max_seconds: Annotated[float, Field(gt=0)] = 3600.0
    auth_strike_memory_seconds: Annotated[float, Field(ge=0)] = 24 * 3600.0
    login_failures_per_ip: PositiveInt = 20
    login_failures_per_account: PositiveInt = 5
    register_attempts_per_ip: PositiveInt = 10
    register_attempts_per_email: PositiveInt = 3
    refresh_failures_per_ip: PositiveInt = 20
    refreshes_per_account: PositiveInt = 60
    room_join_failures_per_ip: PositiveInt = 20
    room_join_failures_per_account: PositiveInt = 10

    max_body_bytes: PositiveInt = 1024 * 1024
    questions_page_default: PositiveInt = 100
    questions_page_max: PositiveInt = 100
    questions_take_all_max: PositiveInt = 5000
    db_pool_size: PositiveInt = 10
    gc_gen0_threshold: Annotated[int, Field(ge=700)] = 100_000
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    metrics_token: str | None = Field(None, min_length=16)

    actors_enabled: bool = True
    actor_namespace: str = "peerprep"
    actor_host_capacity: PositiveInt = 10_000
    actor_max_hosts_per_node: PositiveInt = 4
    actor_host_resource: str | None = None
    actor_idle_seconds: Annotated[float, Field(gt=0)] = 600.0
    actor_call_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    actor_batches_in_flight: PositiveInt = 2
    actor_slow_batch_ms: Annotated[float, Field(gt=0)] = 100.0
    ray_object_store_mb: Annotated[int, Field(ge=75)] = 100
    event_subscriber_limit: PositiveInt = 1000
    event_overflow: Literal["drop-oldest", "disconnect"] = "drop-oldest"

    judge_backend: Literal["sandbox", "judge0", "test"] = "sandbox"
    judge_concurrency: PositiveInt | None = None
    judge_queue_limit: Annotated[int, Field(ge=0)] = 100
    judge_ray_resource: str | None = None
    judge_workers: PositiveInt | None = None
    judge_worker_retries: Annotated[int, Field(ge=0)] = 2
    judge_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0
    judge_cgroups: CgroupMode = "auto"
    judge_cgroup: str | None = None
    judge_run_cpu_seconds: PositiveFloat = 2.0
    judge_run_wall_seconds: PositiveFloat = 5.0
    judge_run_memory_mb: PositiveInt = 256
    judge_run_processes: PositiveInt = 64
    judge_run_cpu_cores: PositiveFloat = 1.0
    judge_compile_cpu_seconds: PositiveFloat = 20.0
    judge_compile_wall_seconds: PositiveFloat = 40.0
    judge_compile_memory_mb: PositiveInt = 768
    judge_compile_processes: PositiveInt = 64
    judge_compile_cpu_cores: PositiveFloat = 1.0
    judge_language_limits: dict[JudgeLanguage, LanguageLimitOverrides] = {}
    contest_duration_seconds: PositiveInt = 600
    contest_problem_count: PositiveInt = 3
    contest_submissions_per_window: PositiveInt = 5
    contest_submission_window_seconds: Annotated[float, Field(gt=0)] = 10.0
    room_join_failures_per_room: PositiveInt = 5
    room_join_window_seconds: Annotated[float, Field(gt=0)] = 60.0
    submission_max_bytes: PositiveInt = 64 * 1024
    run_per_window: PositiveInt = 10
    run_window_seconds: Annotated[float, Field(gt=0)] = 60.0
    stomp_require_auth: bool = False
    matching_heartbeat_seconds: Annotated[float, Field(gt=0)] = 15.0
    matching_ttl_ms_default: PositiveInt = 60_000
    matching_ttl_ms_max: PositiveInt = 30 * 60_000
    collab_session_ttl_seconds: PositiveInt = 2 * 3600
    collab_snapshot_seconds: Annotated[float, Field(gt=0)] = 5.0
    collab_grace_seconds: Annotated[float, Field(gt=0)] = 30.0
    collab_flush_ms: Annotated[int, Field(ge=0, le=1000)] = 20
    collab_local_flush_ms: Annotated[int, Field(ge=0, le=5000)] = 1000
    collab_relay_pending_frames: PositiveInt = 512
    stomp_max_frame_bytes: PositiveInt = 64 * 1024
    stomp_max_subscriptions: PositiveInt = 32
    stomp_heartbeat_ms: Annotated[int, Field(ge=0)] = 10_000
    stomp_connect_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    stomp_outbound_queue_bytes: PositiveInt = 1024 * 1024
    sockjs_heartbeat_seconds: Annotated[float, Field(gt=0)] = 25.0
    sockjs_max_sessions: PositiveInt = 10_000
    # Open at once, per client IP address and per user: WebSockets and SockJS sessions together, and SSE streams.
    sockets_per_ip: PositiveInt = 256
    sockets_per_user: PositiveInt = 32
    sse_streams_per_ip: PositiveInt = 32
    sse_streams_per_user: PositiveInt = 4
    # A request's head (request line and headers, WebSocket handshakes too): its size, its header count, its time.
    http_max_header_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    http_max_headers: PositiveInt = 100
    http_header_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Compression of WebSocket messages when the client offers it; off as in Hocuspocus (ws): the
    # frames are small and deflate costs the front more CPU than it saves on loopback or a LAN.
    ws_per_message_deflate: bool = False

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("sqlite:///"):
            url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        if not url.startswith(("postgresql+psycopg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql+psycopg:// or sqlite+aiosqlite:// URL")
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return url or None

    @field_validator("judge0_callback_url")
    @classmethod
    def _callback_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (this server as Judge0 reaches it)")
        return url or None

    @field_validator("frontend_url")
    @classmethod
    def _frontend_origins(cls, value: str) -> str:
        origins = [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        if not origins:
            raise ValueError("must name at least one origin")
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"{origin!r} is not an origin (http(s)://host[:port], comma-separated)")
        return ",".join(origins)

    @field_validator("oidc_issuer")
    @classmethod
    def _oidc_issuer(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (the provider's issuer, exactly)")
        return url

    @field_validator("oidc_redirect_url")
    @classmethod
    def _oidc_redirect(cls, url: str | None) -> str | None:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (/auth/oauth-success as browsers reach it)")
        return url or None

    @field_validator("oidc_client_id", "oidc_client_secret")
    @classmethod
    def _oidc_credential(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _samesite_none_needs_secure(self) -> Settings:
        if self.cookie_samesite == "none" and not self.cookie_secure:
            raise ValueError("COOKIE_SAMESITE=none needs COOKIE_SECURE=true (browsers drop such cookies otherwise)")
        return self

    @model_validator(mode="after")
    def _oidc_client_pair(self) -> Settings:
        if (self.oidc_client_id is None) != (self.oidc_client_secret is None):
            raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together")
        return self

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, level: str) -> str:
        level = level.lower()
        if level not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return level

    @model_validator(mode="after")
    def _page_bounds(self) -> Settings:
        if self.questions_page_default > self.questions_page_max:
            raise ValueError("QUESTIONS_PAGE_DEFAULT must not exceed QUESTIONS_PAGE_MAX")
        return self

    @cached_property
    def frontend_origins(self) -> tuple[str, ...]:
        """`FRONTEND_URL`'s origins; the first is where sign-in redirects."""
        return tuple(self.frontend_url.split(","))

    @cached_property
    def database(self) -> str:
        """The database URL in use: `DATABASE_URL`, else a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'peerprep.db').resolve()}"

    @cached_property
    def signing_key(self) -> str:
        """`JWT_SECRET`, else a key generated once into the data directory (mode 0600)."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            private_directory(self.data_dir)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as secret_file:
                secret_file.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def header_limits(settings: Settings) -> HeaderLimits:
    from api.server.http_limits import HeaderLimits

    return HeaderLimits(
        max_header_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        header_timeout_seconds=settings.http_header_timeout_seconds,
    )


def websocket_max_message_bytes(settings: Settings) -> int:
    """The largest message any of the server's sockets takes (a collab frame, a SockJS message,
    a STOMP frame): uvicorn's protocol refuses a larger one (1009) from its frame header, before
    buffering it."""
    from api.collab.ws.connection import CollabLimits
    from api.contest.stomp.sockjs import SockJSLimits

    return max(CollabLimits().max_frame_bytes, SockJSLimits().max_message_bytes, settings.stomp_max_frame_bytes)


def contest_rules(settings: Settings) -> ContestRules:
    from actors.contest.rules import ContestRules

    return ContestRules(
        duration_seconds=settings.contest_duration_seconds,
        problem_count=settings.contest_problem_count,
        submissions_per_window=settings.contest_submissions_per_window,
        submission_window_seconds=settings.contest_submission_window_seconds,
        join_failures_per_window=settings.room_join_failures_per_room,
        join_failure_window_seconds=settings.room_join_window_seconds,
    )


def sandbox_config(settings: Settings) -> SandboxConfig:
    """The sandbox judge's cgroups and its limits per language, from the settings."""
    import dataclasses

    from judge.backends import SandboxConfig
    from judge.languages import LANGUAGES
    from judge.sandbox import COMPILE_LIMITS, RUN_LIMITS, MiB
    from judge.toolchains import LanguageLimits

    def step(base, prefix: str, overrides: StepLimitOverrides):
        values = {name: getattr(settings, f"judge_{prefix}_{name}") for name in StepLimitOverrides.model_fields}
        values.update(overrides.model_dump(exclude_none=True))
        memory = values.pop("memory_mb") * MiB
        return dataclasses.replace(base, memory_bytes=memory, **values)

    def limits(overrides: LanguageLimitOverrides) -> LanguageLimits:
        compile_limits = step(COMPILE_LIMITS, "compile", overrides.compile)
        return LanguageLimits(compile_limits, step(RUN_LIMITS, "run", overrides.run))

    keys = {spec.key: spec.judge0_id for spec in LANGUAGES}
    return SandboxConfig(
        cgroups=settings.judge_cgroups,
        cgroup_path=settings.judge_cgroup or None,
        default=limits(LanguageLimitOverrides()),
        limits={keys[name]: limits(overrides) for name, overrides in settings.judge_language_limits.items()},
    )


def kinds_config(settings: Settings) -> KindsConfig:
    """What every actor host is built with (actors/kinds.py), from the settings."""
    from actors.kinds import CollabConfig, JudgingConfig, KindsConfig
    from judge.backends import EngineConfig
    from judge.ray_workers import WorkerPoolConfig

    engine = EngineConfig(
        backend=settings.judge_backend,
        judge0_url=settings.judge0_url,
        judge0_auth_token=settings.judge0_auth_token,
        judge0_callback_url=settings.judge0_callback_url,
        sandbox=sandbox_config(settings),
    )
    workers = WorkerPoolConfig(
        namespace=settings.actor_namespace,
        engine=engine,
        workers=settings.judge_workers,
        resource=settings.judge_ray_resource or None,
        embedded=not settings.ray_address,
        retries=settings.judge_worker_retries,
        timeout=settings.judge_timeout_seconds,
    )
    return KindsConfig(
        database_url=settings.database,
        db_pool_size=settings.db_pool_size,
        judging=JudgingConfig(workers, settings.judge_concurrency, settings.judge_queue_limit),
        contest=contest_rules(settings),
        collab=CollabConfig(
            session_ttl_seconds=settings.collab_session_ttl_seconds,
            snapshot_seconds=settings.collab_snapshot_seconds,
            grace_seconds=settings.collab_grace_seconds,
        ),
    )


def runtime_config(settings: Settings) -> RuntimeConfig:
    """The actor runtime's layout, from the settings."""
    from actors.hosting.config import RuntimeConfig

    return RuntimeConfig(
        namespace=settings.actor_namespace,
        host_capacity=settings.actor_host_capacity,
        max_hosts_per_node=settings.actor_max_hosts_per_node,
        host_resource=settings.actor_host_resource or None,
        idle_timeout=settings.actor_idle_seconds,
        call_timeout=settings.actor_call_timeout_seconds,
        max_batches_in_flight=settings.actor_batches_in_flight,
        slow_batch_after=settings.actor_slow_batch_ms / 1000,
        object_store_bytes=settings.ray_object_store_mb * 1024 * 1024,
        node_ip=settings.ray_node_ip,
        ray_log_level=logging.INFO if settings.log_level == "debug" else logging.ERROR,
        redis_url=settings.redis_url,
        subscriber_limit=settings.event_subscriber_limit,
        overflow=settings.event_overflow,
        gc_gen0_threshold=settings.gc_gen0_threshold,
        factory_config=kinds_config(settings),
    )


def describe_validation_error(error: Exception) -> str:
    """One line naming the environment variables that failed and why."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "settings"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "invalid setting " + "; ".join(parts)
