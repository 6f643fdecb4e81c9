"""`GET /metrics`: Prometheus text, for an admin's JWT (bearer or cookie) and, when
`METRICS_TOKEN` is set, for `Authorization: Bearer <METRICS_TOKEN>`; when it is unset, for
loopback clients (a scraper on the host), so that the figures are never open to the network."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from api.core.deps import ServicesDep, bearer_scheme, cookie_scheme
from api.core.errors import forbidden, unauthorized
from api.core.schemas import ERROR_RESPONSES
from api.core.security import InvalidToken
from api.operations.runtime_metrics import RuntimeSnapshot

router = APIRouter(tags=["operations"], responses=ERROR_RESPONSES)

REFUSED = "Metrics need the scrape token (METRICS_TOKEN) or an admin's token"
LOOPBACK_ONLY = "Metrics are served to loopback clients or an admin's token while METRICS_TOKEN is unset"


def is_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


async def scrape_allowed(
    request: Request,
    svc: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> None:
    expected = svc.settings.metrics_token
    if expected is None and is_loopback(request.client.host if request.client else None):
        return
    if (
        expected is not None
        and bearer is not None
        and hmac.compare_digest(bearer.credentials.encode(), expected.encode())
    ):
        return
    refused = REFUSED if expected is not None else LOOPBACK_ONLY
    presented = bearer.credentials if bearer is not None else cookie
    if not presented:
        raise unauthorized(refused) if expected is not None else forbidden(refused)
    try:
        claims = await svc.live_sessions.claims(presented)
    except InvalidToken:
        raise unauthorized(refused) from None
    if not claims.is_admin:
        raise forbidden(refused)


@router.get(
    "/metrics",
    summary="Prometheus metrics of this front and of the actor hosts",
    response_class=PlainTextResponse,
    dependencies=[Depends(scrape_allowed)],
)
async def metrics(request: Request, svc: ServicesDep) -> Response:
    body = generate_latest(request.app.state.metrics.registry)
    if svc.actors is not None:
        body += generate_latest(await RuntimeSnapshot.take(svc.actors))
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
