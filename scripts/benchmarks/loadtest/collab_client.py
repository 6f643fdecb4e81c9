"""One collab editor: a pycrdt document kept in sync with a session over Hocuspocus or y-websocket.

Hocuspocus (`/collab/ws`): every frame but Ping/Pong carries the document name first, and the
token travels in an Auth frame. y-websocket (`/collab/yjs/{session}?token=`): bare frames.
Edits append a unique marker to the `code` text; the partner editor reports each marker's relay
time when the update that carries it has been applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

import websockets
from pycrdt import Doc, Text, create_sync_message, create_update_message, handle_sync_message
from websockets.exceptions import ConnectionClosed

from api.collab.ws.encoding import PING, PONG, AuthMessageType, MessageType, Reader, SyncMessageType, write_var_string
from benchmarks.loadtest.http_api import StepFailed, User
from benchmarks.loadtest.recorder import RELAY, Recorder
from benchmarks.loadtest.sockets import ReaderSocket

HOCUSPOCUS = "hocuspocus"
YWEBSOCKET = "y-websocket"
# How y-websocket closes a socket whose document the server closed (the session ended).
YWEBSOCKET_DOCUMENT_CLOSED = 4410


class CollabEditor(ReaderSocket):
    def __init__(self, recorder: Recorder, protocol: str, ws_base: str, session_id: str, user: User) -> None:
        self.recorder = recorder
        self.protocol = protocol
        self.session_id = session_id
        self.user = user
        if protocol == HOCUSPOCUS:
            self.url = f"{ws_base}/collab/ws"
            self.prefix = write_var_string(session_id)
            self.denied = bytes([AuthMessageType.PERMISSION_DENIED])
        else:
            self.url = f"{ws_base}/collab/yjs/{session_id}?token={user.token}"
            self.prefix = b""
            self.denied = b"\x00"  # y-protocols' auth message has one subtype: 0, permission denied
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.socket = None
        self.reader: asyncio.Task | None = None
        self.synced = asyncio.Event()
        self.document_closed = False
        self.closing = False
        self.failed = False
        # Markers the partner sent and this editor has not seen yet: (marker, perf_counter when sent).
        self.expected: deque[tuple[str, float]] = deque()
        self.all_seen = asyncio.Event()
        self.all_seen.set()

    async def open(self, within: float) -> None:
        """Connect, authenticate (Hocuspocus), and wait for the server's document (sync step 2)."""
        try:
            async with asyncio.timeout(within):
                self.socket = await websockets.connect(
                    self.url, ping_interval=None, max_size=None, compression=None, open_timeout=None
                )
                if self.protocol == HOCUSPOCUS:
                    auth = bytes([MessageType.AUTH, AuthMessageType.TOKEN]) + write_var_string(self.user.token)
                    await self.socket.send(self.prefix + auth)
                await self.socket.send(self.prefix + create_sync_message(self.doc))
                self.reader = asyncio.get_running_loop().create_task(self._read())
                await self.synced.wait()
        except TimeoutError:
            self.recorder.error(f"timeout {self.protocol} connect and sync")
            await self.close()
            raise StepFailed("collab sync") from None
        except (OSError, websockets.InvalidHandshake, ConnectionClosed) as error:
            self.recorder.error(f"WS connect failed {self.protocol}: {type(error).__name__}")
            await self.close()
            raise StepFailed("collab connect") from None
        if self.failed:
            raise StepFailed("collab connection lost")

    async def edit(self, marker: str, partner: CollabEditor) -> None:
        """Append `marker` to the text and send the update; `partner` will time its arrival."""
        before = self.doc.get_state()
        self.text += marker
        update = self.doc.get_update(before)
        partner.expect(marker)
        try:
            await self.socket.send(self.prefix + create_update_message(update))
        except ConnectionClosed:
            raise StepFailed("collab connection lost") from None

    def expect(self, marker: str) -> None:
        self.expected.append((marker, time.perf_counter()))
        self.all_seen.clear()

    def _check_markers(self, arrived: float) -> None:
        if not self.expected:
            return
        content = str(self.text)
        while self.expected and self.expected[0][0] in content:
            _, sent = self.expected.popleft()
            self.recorder.latency(RELAY, (arrived - sent) * 1000)
        if not self.expected:
            self.all_seen.set()

    async def _read(self) -> None:
        try:
            async for message in self.socket:
                arrived = time.perf_counter()
                if isinstance(message, str):
                    continue
                if message == PING:
                    await self.socket.send(PONG)
                    continue
                await self._handle(message, arrived)
            if not self.closing and not self._expected_close(self.socket.close_code):
                self.recorder.error(f"WS close {self.socket.close_code} {self.protocol}")
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else 1006
            if not self.closing and not self._expected_close(code):
                self.recorder.error(f"WS close {code} {self.protocol}")
        self.failed = True
        self.synced.set()

    def _expected_close(self, code: int | None) -> bool:
        return self.document_closed or code == YWEBSOCKET_DOCUMENT_CLOSED

    async def _handle(self, message: bytes, arrived: float) -> None:
        reader = Reader(message)
        if self.prefix and reader.read_var_string() != self.session_id:
            return
        kind = reader.read_var_uint()
        body = message[reader.offset :]
        if kind == MessageType.SYNC:
            reply = handle_sync_message(body, self.doc)
            if reply is not None:
                await self.socket.send(self.prefix + reply)
            if body[0] == SyncMessageType.STEP2:
                self.synced.set()
            self._check_markers(arrived)
        elif kind == MessageType.AUTH and body[:1] == self.denied:
            self.recorder.error(f"{self.protocol} permission denied")
            self.failed = True
            self.synced.set()
        elif kind == MessageType.CLOSE:
            self.document_closed = True

    async def close(self) -> None:
        await self.close_socket()
