"""One Hocuspocus socket (@hocuspocus/provider 4.8.0): many documents multiplexed by address.

Every frame but the bare Ping/Pong bytes is `varString(address) · varUint type · payload`. The
address is the document name, or `name \\0 sessionId` for a provider with `sessionAwareness`:
the application sees the name, the client gets replies under the address it used.

Each address has a `_Document`, whose queued frames one task handles in order, so a slow Auth
on one document holds up no other; the task is started when a frame is queued and ends once
none is. Until Auth succeeds, a document's other frames are held (and count against the queue
limits); Auth asks the application to authorize and open the document, answers
Authenticated(scope) or PermissionDenied(reason) and keeps the socket open either way (the
provider reconnects after any close, so a close cannot refuse it). Then the held frames are
handled, and the link passes the document's frames to the client (`listen`) until the
application closes the document, which the client learns from a CLOSE frame; later frames to
that address are dropped.

Decisions: Stateless (5) frames are ignored, since the seam has no channel for them and nothing
waits for an answer; an Auth on an open document is answered Authenticated again; types a client
never sends (4, 6, 8, unknown) are ignored as server 4.7 ignores unknown types; frames that cannot
be decoded close the socket with 4401, as server 4.7 does.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from api.collab.ws.application import CollabApplication, Denied, DocumentLink, Handled
from api.collab.ws.connection import RESET_CONNECTION, CollabConnection, CollabLimits, CollabTransport
from api.collab.ws.encoding import (
    EMPTY_AWARENESS,
    PING,
    PONG,
    AuthMessageType,
    DecodeError,
    MessageType,
    Reader,
    authenticated,
    close_document,
    permission_denied,
    read_y_frame,
    sync_status,
    write_var_string,
)

log = logging.getLogger("peerprep.collab_ws.hocuspocus")

# The reason server 4.7 gives when it answers a client's CLOSE.
PROVIDER_INITIATED = "provider_initiated"
# The reason of the CLOSE frame sent when the application closed the document.
DOCUMENT_CLOSED = "document-closed"


class _State(Enum):
    PENDING = "pending"  # waiting for Auth; other frames are held
    OPEN = "open"  # authenticated, attached through `link`
    CLOSED = "closed"  # the application closed the document; frames are dropped until Auth or CLOSE


@dataclass(frozen=True)
class _Frame:
    type: int
    size: int
    data: bytes = b""  # the y-websocket-form frame, for the types the application takes
    token: str = ""  # Auth


@dataclass(frozen=True)
class _ClosedByApplication:
    """Queued when the application closed the document, so that the close is handled in order;
    `denied` when it withdrew the permission (the login ended), which the provider hears as
    permission-denied and must authenticate again."""

    link: DocumentLink
    denied: str | None = None


@dataclass(eq=False)
class _Document:
    address: str
    prefix: bytes
    # Made when a frame is queued, dropped once the queue is drained (an empty deque is ~760 bytes).
    inbound: deque[_Frame | _ClosedByApplication] | None = None
    # The task handling `inbound`, from the first frame queued until it is empty: while it runs, a
    # frame that comes waits its turn.
    serving: asyncio.Task | None = None
    state: _State = _State.PENDING
    held: list[_Frame] = field(default_factory=list)
    link: DocumentLink | None = None
    scope: str = "read-write"
    # Set when the state was reset (client CLOSE, refusal): forget the document once nothing is queued.
    discard: bool = False

    @property
    def name(self) -> str:
        return self.address.partition("\0")[0]


class HocuspocusConnection(CollabConnection):
    protocol = "hocuspocus"

    def __init__(
        self,
        application: CollabApplication,
        transport: CollabTransport,
        limits: CollabLimits | None = None,
        *,
        cookie_token: str | None = None,
        only_document: str | None = None,
        connection_id: str | None = None,
    ) -> None:
        super().__init__(application, transport, limits, connection_id=connection_id)
        self.cookie_token = cookie_token
        self.only_document = only_document
        """A socket opened at a document's own path (`/collab/ws/{name}`) serves that document only."""
        self.documents: dict[str, _Document] = {}
        self.speaks_ping = False
        """Whether the client is a 4.x provider, which answers a bare Ping (and 3.x cannot read one)."""
        self._authenticated_once = False

    def _start(self) -> None:
        self._keep_alive(self.limits.ping_interval_seconds, self._keep_alive_frames, when_quiet=False)

    def _keep_alive_frames(self) -> tuple[bytes, ...]:
        """A bare Ping for 4.x providers (their Auth names their version); 3.x providers read every
        frame as addressed (a bare `09` is a document name of 9 bytes to them, and an error), so
        they get an empty awareness update of each open document instead."""
        if self.speaks_ping:
            return (PING,)
        return tuple(doc.prefix + EMPTY_AWARENESS for doc in self.documents.values() if doc.state is _State.OPEN)

    def _idle_since(self) -> float:
        return self._last_received if self._authenticated_once else self._opened_at

    # Input

    def _receive(self, data: bytes) -> None:
        if data == PONG or data == PING:
            return
        reader = Reader(data)
        address = reader.read_var_string()
        frame = self._parse(reader, len(data))
        if frame is None:
            return
        document = self.documents.get(address)
        if document is None:
            if len(self.documents) >= self.limits.max_documents:
                self._close(RESET_CONNECTION, f"More than {self.limits.max_documents} documents on one socket")
                return
            document = _Document(address, write_var_string(address))
            self.documents[address] = document
        if self._take_now(document, frame):
            return
        if self._reserve(frame.size):
            self._enqueue(document, frame)

    def _enqueue(self, document: _Document, item: _Frame | _ClosedByApplication) -> None:
        if document.inbound is None:
            document.inbound = deque()
        document.inbound.append(item)
        if document.serving is None:
            document.serving = self._spawn(self._serve(document))

    def _take_now(self, document: _Document, frame: _Frame) -> bool:
        """Handles the frame in the reader's step when the link can take it at once (an update
        or awareness change) and nothing of this document is queued or being handled."""
        if (
            document.state is not _State.OPEN
            or document.serving is not None
            or document.link is None
            or frame.type in (MessageType.AUTH, MessageType.CLOSE)
        ):
            return False
        return self._handle_now(document.link, frame.data, lambda answer: self._deliver(document.prefix, answer))

    def _parse(self, reader: Reader, size: int) -> _Frame | None:
        """The frame after its address; None for a type that is ignored."""
        start = reader.offset
        kind = reader.read_var_uint()
        if kind == MessageType.AUTH:
            subtype = reader.read_var_uint()
            if subtype != AuthMessageType.TOKEN:
                raise DecodeError(f"a client sent Auth subtype {subtype}")
            token = reader.read_var_string()
            if reader.remaining:
                reader.read_var_string()  # the provider's version, sent by 4.x providers
                self.speaks_ping = True
            return _Frame(kind, size, token=token)
        if kind == MessageType.CLOSE:
            return _Frame(kind, size)
        reader.offset = start
        y_frame = read_y_frame(reader)
        if y_frame is None:
            log.debug("hocuspocus %s: ignored a frame of type %s", self.connection_id, kind)
            return None
        return _Frame(kind, size, data=y_frame.data)

    async def _serve(self, document: _Document) -> None:
        """Handles one address's queued frames in order; ends, in the step that finds the queue
        empty, forgetting the address if its state was reset."""
        while document.inbound:
            document.discard = False
            await self._handle_item(document, document.inbound.popleft())
        document.inbound = document.serving = None
        if document.discard:
            del self.documents[document.address]

    async def _handle_item(self, document: _Document, item: _Frame | _ClosedByApplication) -> None:
        if isinstance(item, _ClosedByApplication):
            await self._closed_by_application(document, item)
            return
        held = False
        try:
            held = await self._handle(document, item)
        finally:
            if not held:
                self._release(item.size)

    async def _handle(self, document: _Document, frame: _Frame) -> bool:
        """Handles one frame; True when it was held until Auth (and stays counted)."""
        if frame.type == MessageType.CLOSE:
            await self._client_closed(document)
            return False
        if document.state is _State.OPEN:
            await self._handle_open(document, frame)
            return False
        if frame.type == MessageType.AUTH:
            await self._authenticate(document, frame.token)
            return False
        if document.state is _State.PENDING:
            document.held.append(frame)
            return True
        return False

    async def _handle_open(self, document: _Document, frame: _Frame) -> None:
        assert document.link is not None
        if frame.type == MessageType.AUTH:
            self._send(authenticated(document.prefix, document.scope))
            return
        handled = await document.link.handle(frame.data)
        self._deliver(document.prefix, handled)

    def _deliver(self, prefix: bytes, handled: Handled) -> None:
        for reply in handled.replies:
            self._send(prefix + reply)
        if handled.applied is not None:
            self._send(sync_status(prefix, handled.applied))

    async def _authenticate(self, document: _Document, token: str) -> None:
        try:
            if self.only_document is not None and document.name != self.only_document:
                raise Denied(f"permission-denied: this socket serves the document {self.only_document[:64]} only")
            grant = await self.application.authorize(document.name, token or self.cookie_token)
            link = await self.application.open(grant, document.name)
        except Denied as denial:
            self._drop_held(document)
            document.state = _State.PENDING
            document.discard = True
            self._send(permission_denied(document.prefix, denial.reason))
            return
        document.link, document.scope, document.state = link, grant.scope, _State.OPEN
        self._authenticated_once = True
        self._send(authenticated(document.prefix, grant.scope))
        link.listen(
            lambda frame: self._relay(document, link, frame),
            lambda error: self._link_ended(document, link, error),
        )
        held, document.held = document.held, []
        try:
            for frame in held:
                if self.closed:
                    return
                await self._handle_open(document, frame)
        finally:
            for frame in held:
                self._release(frame.size)

    def _drop_held(self, document: _Document) -> None:
        for frame in document.held:
            self._release(frame.size)
        document.held = []

    async def _client_closed(self, document: _Document) -> None:
        """The provider detached: leave the document and confirm, as server 4.7 does."""
        await self._detach(document)
        self._drop_held(document)
        document.state = _State.PENDING
        document.discard = True
        self._send(close_document(document.prefix, PROVIDER_INITIATED))

    async def _closed_by_application(self, document: _Document, closed: _ClosedByApplication) -> None:
        if document.link is not closed.link:
            return
        await self._detach(document)
        if closed.denied is not None:
            document.state = _State.PENDING
            document.discard = True
            self._send(permission_denied(document.prefix, closed.denied))
            return
        document.state = _State.CLOSED
        self._send(close_document(document.prefix, DOCUMENT_CLOSED))

    async def _detach(self, document: _Document) -> None:
        link, document.link = document.link, None
        if link is not None:
            await self._close_link(link)

    # Output

    def _relay(self, document: _Document, link: DocumentLink, frame: bytes) -> None:
        if document.link is link:
            self._send(document.prefix + frame)

    def _link_ended(self, document: _Document, link: DocumentLink, error: Exception | None) -> None:
        if document.link is not link or self.closed:
            return
        if isinstance(error, Denied):
            self._enqueue(document, _ClosedByApplication(link, error.reason))
            return
        if error is not None:
            self._feed_broke(error)
            return
        self._enqueue(document, _ClosedByApplication(link))

    def _take_links(self) -> list[DocumentLink]:
        links = [document.link for document in self.documents.values() if document.link is not None]
        for document in self.documents.values():
            document.link = None
        return links
