"""The collab sessions as a `CollabApplication`: who may open a document, and each connection's
link to its session actor.

A client frame becomes a `DocumentFrame` message to `collab:{id}`; what the actor publishes
on that topic (updates, awareness, the end) is what `next()` yields, for every connection
of the session on every front. The bus subscription is confirmed before the connection
attaches, so no update published after the client's sync can be missed.
"""

from __future__ import annotations

import base64
import re
import secrets

from actors.collab.session import (
    CloseDocument,
    DocumentFrame,
    GetSession,
    OpenDocument,
    SessionClosed,
    SessionNotFound,
    session_topic,
)
from actors.events.subscriptions import Subscription, SubscriptionClosed
from api.collab_ws.application import Denied, Grant, Handled
from api.security import InvalidToken
from api.services import Services

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


class SessionLink:
    def __init__(self, services: Services, session_id: str, connection: str, subscription: Subscription,
                 first: tuple[bytes, ...]) -> None:  # fmt: skip
        self.services = services
        self.session_id = session_id
        self.connection = connection
        self.subscription = subscription
        self.pending = list(first)
        self.closed = False

    async def _ask(self, message):
        return await self.services.actors.client.ask(session_topic(self.session_id), message)

    async def handle(self, frame: bytes) -> Handled:
        result = await self._ask(DocumentFrame(self.connection, frame))
        return Handled(tuple(result.replies), result.applied)

    async def next(self) -> bytes | None:
        if self.pending:
            return self.pending.pop(0)
        while True:
            try:
                event = await self.subscription.get()
            except SubscriptionClosed as closed:
                # Fell behind (or the front is stopping): reset the socket so the client reconnects and resyncs.
                raise ConnectionResetError(f"collab feed ended: {closed}") from None
            if event["type"] == "frame":
                return base64.b64decode(event["data"])
            if event["type"] == "closed":
                return None

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.subscription.close()
        try:
            await self._ask(CloseDocument(self.connection))
        except (SessionClosed, SessionNotFound):
            pass


class SessionDocuments:
    """The documents of `/collab/ws` and `/collab/yjs/{id}`: JWT → participant → a SessionLink."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def authorize(self, document: str, token: str | None) -> Grant:
        if not SESSION_ID.match(document):
            raise Denied("permission-denied: no such session")
        if not token:
            raise Denied("permission-denied: no token")
        try:
            claims = self.services.tokens.verify(token)
        except InvalidToken:
            raise Denied("permission-denied: invalid token") from None
        if self.services.actors is None:
            raise Denied("unavailable: the actor runtime is not running on this front")
        try:
            session = await self.services.actors.client.ask(session_topic(document), GetSession())
        except SessionNotFound:
            raise Denied("permission-denied: no such session") from None
        if str(claims.user_id) not in (session["user1ID"], session["user2ID"]):
            raise Denied("permission-denied: not a participant of this session")
        if session["status"] != "ACTIVE":
            raise Denied("permission-denied: the session has ended")
        return Grant(claims.user_id)

    async def open(self, grant: Grant, document: str) -> SessionLink:
        subscription = await self.services.actors.bus.subscribe(session_topic(document))
        connection = secrets.token_hex(8)
        try:
            first = await self.services.actors.client.ask(
                session_topic(document), OpenDocument(connection, grant.user_id)
            )
        except (SessionClosed, SessionNotFound) as error:
            subscription.close()
            raise Denied(f"permission-denied: {error.message}") from None
        except BaseException:
            subscription.close()
            raise
        return SessionLink(self.services, document, connection, subscription, tuple(first))
