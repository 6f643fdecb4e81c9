"""Pure ASGI middleware: request ids and the request-body size limit."""

from __future__ import annotations

import json
import re
import uuid

from starlette.exceptions import HTTPException

from api.server.request_context import reset_request_id, set_request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(scope) -> str:
    """The request's well-formed `X-Request-ID`, or a new id."""
    incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
    return incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes a well-formed `X-Request-ID` or makes one; echoes it on the response.

    The id is also kept in the scope state, for the 500 handler that runs outside this middleware.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        request_id = request_id_for(scope)
        token = set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            # A WebSocket's messages go straight out: it has no response start to tag.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            reset_request_id(token)


class BodyLimitMiddleware:
    """Answers 413 for a body over `limit` bytes, by Content-Length or by counting the stream.

    A chunked body is counted as the app reads it; going over raises Starlette's
    HTTPException, which the app's error handlers turn into the 413 body.
    """

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await self._reject(send, 400, "Invalid Content-Length header")
            if int(declared) > self.limit:
                return await self._reject(send, 413, self._message())

        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"Request body exceeds the limit of {self.limit} bytes"

    @staticmethod
    async def _reject(send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
