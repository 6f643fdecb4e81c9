"""One y-websocket socket (y-websocket 3.1.0) at `/collab/yjs/{document}`.

Frames are y-websocket-form already (no address), so they pass straight to the document link
and back. The token comes with the upgrade (`?token=` or the access cookie); the application
authorizes and opens the document as soon as the socket is accepted, and frames that arrive in
the meantime wait (counted against the queue limits). Once it is open, a frame is handled in the
reader's step when nothing is queued ahead of it; frames that must wait are handled by a task
started when one is queued, which ends once none is.

Close codes follow the client's rule that 4400-4499 ends its retries and anything else is
retried with backoff: permission denied (after a y-protocols auth frame carrying the reason)
4403, the application closed the document 4410, a malformed frame 4400, a frame above the limit
4413, all final; reset (limits, application errors) 4205 and silence 4508, both retried.
The client has no ping and drops a socket silent for 30 s, so after `keepalive_seconds` without
sending, the connection sends an awareness update with no entries, which the client applies
without any change or event (type 9 would only log an error there).
"""

from __future__ import annotations

import asyncio
import logging

from api.collab.ws.application import CollabApplication, Denied, DocumentLink, Handled
from api.collab.ws.connection import CollabConnection, CollabLimits, CollabTransport
from api.collab.ws.encoding import EMPTY_AWARENESS, Reader, YFrame, read_y_frame, ywebsocket_permission_denied

log = logging.getLogger("peerprep.collab_ws.ywebsocket")

PERMISSION_DENIED = 4403
DOCUMENT_CLOSED = 4410
MALFORMED = 4400
TOO_BIG = 4413
CONNECTION_TIMEOUT = 4508


class YWebsocketConnection(CollabConnection):
    protocol = "y-websocket"
    malformed_code = MALFORMED
    idle_code = CONNECTION_TIMEOUT
    too_big_code = TOO_BIG

    def __init__(
        self,
        application: CollabApplication,
        transport: CollabTransport,
        limits: CollabLimits | None = None,
        *,
        document: str,
        token: str | None,
        connection_id: str | None = None,
    ) -> None:
        super().__init__(application, transport, limits, connection_id=connection_id)
        self.document = document
        self.token = token
        self.link: DocumentLink | None = None
        # A list, not a deque: nearly always empty, and an empty deque is ~760 bytes.
        self._inbound: list[YFrame] = []
        # The task opening the document, then handling `_inbound` until it is empty.
        self._serving: asyncio.Task | None = None

    def _start(self) -> None:
        self._serving = self._spawn(self._open())

    def _receive(self, data: bytes) -> None:
        frame = read_y_frame(Reader(data))
        if frame is None:
            log.debug("y-websocket %s: ignored a frame of type %s", self.connection_id, data[0])
            return
        if self._serving is None and self.link is not None:
            if self._handle_now(self.link, frame.data, self._deliver):
                return
        if self._reserve(len(frame.data)):
            self._inbound.append(frame)
            if self._serving is None and self.link is not None:  # before that, `_open` serves them
                self._serving = self._spawn(self._serve())

    async def _open(self) -> None:
        try:
            grant = await self.application.authorize(self.document, self.token)
            self.link = await self.application.open(grant, self.document)
        except Denied as denial:
            self._send(ywebsocket_permission_denied(denial.reason))
            self._close(PERMISSION_DENIED, denial.reason)
            return
        self.link.listen(self._send, self._link_ended)
        self._keep_alive(self.limits.keepalive_seconds, lambda: (EMPTY_AWARENESS,), when_quiet=True)
        await self._serve()

    async def _serve(self) -> None:
        """Handles the queued frames in order; ends in the step that finds none."""
        assert self.link is not None
        while self._inbound:
            frame = self._inbound.pop(0)
            try:
                handled = await self.link.handle(frame.data)
            finally:
                self._release(len(frame.data))
            self._deliver(handled)
        self._serving = None

    def _deliver(self, handled: Handled) -> None:
        for reply in handled.replies:
            self._send(reply)

    def _link_ended(self, error: Exception | None) -> None:
        if isinstance(error, Denied):
            self._send(ywebsocket_permission_denied(error.reason))
            self._close(PERMISSION_DENIED, error.reason)
        elif error is not None:
            self._feed_broke(error)
        else:
            self._close(DOCUMENT_CLOSED, "document-closed")

    def _take_links(self) -> list[DocumentLink]:
        link, self.link = self.link, None
        return [link] if link is not None else []
