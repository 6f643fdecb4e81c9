"""One player's raw STOMP-over-WebSocket connection (`/ws/websocket`), subscribed to its room's state topic.

Every RoomStateResponse is checked against the waits registered with `until()`, so a player can
learn when the state that reflects its submission arrived. An ERROR frame or a close the client
did not ask for is counted as an error and fails the waits.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import websockets
from websockets.exceptions import ConnectionClosed

from api.contest.stomp.frames import Frame, FrameParser, ParserLimits, StompProtocolError, encode_frame
from benchmarks.loadtest.http_api import StepFailed, User
from benchmarks.loadtest.recorder import Recorder
from benchmarks.loadtest.sockets import ReaderSocket

State = dict
Predicate = Callable[[State], bool]


class RoomFeed(ReaderSocket):
    def __init__(self, recorder: Recorder, ws_base: str, room_id: int, user: User, timeout: float) -> None:
        self.recorder = recorder
        self.url = f"{ws_base}/ws/websocket"
        self.room_id = room_id
        self.user = user
        self.timeout = timeout
        self.socket = None
        self.parser = FrameParser(ParserLimits(max_frame_bytes=4 * 1024 * 1024))
        self.waits: list[tuple[Predicate, asyncio.Future]] = []
        self.closing = False
        self.failed = False
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        """Connect, CONNECT with the player's token, SUBSCRIBE, and wait for the first state."""
        try:
            async with asyncio.timeout(self.timeout):
                self.socket = await websockets.connect(
                    self.url, ping_interval=None, max_size=None, compression=None, open_timeout=None
                )
                headers = (("accept-version", "1.2"), ("host", "loadtest"), ("heart-beat", "0,0"),
                           ("Authorization", f"Bearer {self.user.token}"))  # fmt: skip
                await self.socket.send(encode_frame(Frame("CONNECT", headers)).decode())
                connected = await self._next_frame()
                if connected.command != "CONNECTED":
                    self.recorder.error(f"STOMP ERROR {connected.header('message') or connected.command}")
                    raise StepFailed("STOMP refused")
                subscribed = self.until(lambda state: True)
                self.reader = asyncio.get_running_loop().create_task(self._read())
                topic = (("id", "state"), ("destination", f"/topic/room/{self.room_id}"))
                await self.socket.send(encode_frame(Frame("SUBSCRIBE", topic)).decode())
                await subscribed
        except TimeoutError:
            self.recorder.error("timeout STOMP connect and subscribe")
            await self.close()
            raise StepFailed("STOMP subscribe") from None
        except (OSError, websockets.InvalidHandshake, ConnectionClosed) as error:
            self.recorder.error(f"WS connect failed stomp: {type(error).__name__}")
            await self.close()
            raise StepFailed("STOMP connect") from None

    async def _next_frame(self) -> Frame:
        while (frame := self._parse()) is None:
            message = await self.socket.recv()
            self.parser.feed(message.encode() if isinstance(message, str) else message)
        return frame

    def _parse(self) -> Frame | None:
        try:
            return self.parser.next_frame()
        except StompProtocolError as error:
            self.recorder.error(f"STOMP unparsable frame: {error}")
            raise StepFailed("STOMP frame") from None

    async def _read(self) -> None:
        try:
            async for message in self.socket:
                arrived = time.perf_counter()
                self.parser.feed(message.encode() if isinstance(message, str) else message)
                while (frame := self._parse()) is not None:
                    if frame.command == "MESSAGE":
                        self._deliver(json.loads(frame.body), arrived)
                    elif frame.command == "ERROR":
                        self.recorder.error(f"STOMP ERROR {frame.header('message') or ''}".strip())
                        self._fail()
                        return
            if not self.closing:
                self.recorder.error(f"WS close {self.socket.close_code} stomp")
        except ConnectionClosed as closed:
            if not self.closing:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                self.recorder.error(f"WS close {code} stomp")
        except StepFailed:
            pass
        self._fail()

    def _deliver(self, state: State, arrived: float) -> None:
        kept = []
        for predicate, future in self.waits:
            if future.done():
                continue
            if predicate(state):
                future.set_result((arrived, state))
            else:
                kept.append((predicate, future))
        self.waits = kept

    def _fail(self) -> None:
        self.failed = True
        for _, future in self.waits:
            if not future.done():
                future.set_exception(StepFailed("STOMP connection lost"))
        self.waits = []

    def until(self, predicate: Predicate) -> asyncio.Future:
        """A future of (perf_counter time of arrival, state): the first state satisfying `predicate`."""
        future = asyncio.get_running_loop().create_future()
        # A wait its player gave up on (its step failed first) must not log "exception never retrieved".
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        if self.failed:
            future.set_exception(StepFailed("STOMP connection lost"))
        else:
            self.waits.append((predicate, future))
        return future

    async def close(self) -> None:
        await self.close_socket()
        for _, future in self.waits:
            future.cancel()
        self.waits = []
