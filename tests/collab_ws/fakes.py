"""An in-test CollabApplication on pycrdt, and a transport that records what a connection sends.

`FakeCollabApplication` keeps, per document, a pycrdt `Doc` whose Text is `code` and an
`Awareness`, and serves the seam with pycrdt's sync and awareness helpers, as the collab session
actor does. Tokens name users (`alice`, `bob`, `carol`; `reader` gets a readonly grant); a
document's `members` decide who may open it (by default alice, bob, carol and reader),
`mallory` and unknown or missing tokens are denied. `close_document` ends a document for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pycrdt import (
    Awareness,
    Doc,
    Text,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
)

from actors.collab.awareness import encode_awareness_update
from api.collab.ws.application import Denied, Grant, Handled
from api.collab.ws.encoding import Reader

USERS = {"alice": 1, "bob": 2, "carol": 3, "reader": 4, "mallory": 666}
DEFAULT_MEMBERS = frozenset({"alice", "bob", "carol", "reader"})


def awareness_client_ids(update: bytes) -> list[int]:
    reader = Reader(update)
    ids = []
    for _ in range(reader.read_var_uint()):
        ids.append(reader.read_var_uint())
        reader.read_var_uint()
        reader.read_var_string()
    return ids


class FakeLink:
    def __init__(self, document: FakeDocument, grant: Grant) -> None:
        self.document = document
        self.grant = grant
        self.waiting: list[bytes | None] = []  # until the connection listens
        self.listener: tuple[Callable[[bytes], None], Callable[[Exception | None], None]] | None = None
        self.client_ids: set[int] = set()
        self.frames: list[bytes] = []
        self.closed = False

    async def handle(self, frame: bytes) -> Handled:
        return self._handle(frame)

    def handle_now(self, frame: bytes) -> Handled | None:
        """Updates and awareness changes in the caller's step, as the session relay takes them."""
        if frame[0] == 1 or (frame[0] == 0 and frame[1] != 0):
            return self._handle(frame)
        return None

    def _handle(self, frame: bytes) -> Handled:
        self.frames.append(frame)
        document = self.document
        if document.fail_on_handle:
            raise RuntimeError("the application broke")
        if frame[0] == 0:
            if frame[1] == 0:
                step2 = handle_sync_message(frame[1:], document.doc)
                assert step2 is not None
                return Handled(replies=(create_sync_message(document.doc), step2))
            if self.grant.scope == "readonly":
                return Handled(applied=False)
            handle_sync_message(frame[1:], document.doc)
            return Handled(applied=True)
        if frame[0] == 1:
            update = read_message(frame[1:])
            self.client_ids.update(awareness_client_ids(update))
            document.awareness.apply_awareness_update(update, self)
            return Handled()
        states = list(document.awareness.states)
        return Handled(replies=(create_awareness_message(encode_awareness_update(document.awareness, states)),))

    def listen(self, deliver: Callable[[bytes], None], ended: Callable[[Exception | None], None]) -> None:
        self.listener = (deliver, ended)
        waiting, self.waiting = self.waiting, []
        for frame in waiting:
            self.push(frame)

    def push(self, frame: bytes | None) -> None:
        """A frame broadcast to this link, or None: the document is closed for good."""
        if self.listener is None:
            self.waiting.append(frame)
        elif frame is None:
            self.listener[1](None)
        else:
            self.listener[0](frame)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.document.links.discard(self)
        self.document.awareness.remove_awareness_states(sorted(self.client_ids), self)
        self.document.changed.set()


class FakeDocument:
    def __init__(self, name: str) -> None:
        self.name = name
        self.doc = Doc()
        self.text = self.doc.get("code", type=Text)
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)
        self.links: set[FakeLink] = set()
        self.members = set(DEFAULT_MEMBERS)
        self.closed = False
        self.fail_on_handle = False
        self.changed = asyncio.Event()
        self._subscription = self.doc.observe(self._on_update)
        self.awareness.observe(self._on_awareness)

    def _broadcast(self, frame: bytes) -> None:
        for link in self.links:
            link.push(frame)
        self.changed.set()

    def _on_update(self, event) -> None:
        self._broadcast(create_update_message(event.update))

    def _on_awareness(self, topic: str, change: tuple[dict, object]) -> None:
        if topic != "update":
            return
        changes, _origin = change
        ids = changes["added"] + changes["updated"] + changes["removed"]
        self._broadcast(create_awareness_message(encode_awareness_update(self.awareness, ids)))

    @property
    def content(self) -> str:
        return str(self.text)

    def edit(self, index: int, text: str) -> None:
        """A change made on the server side, as if by another client."""
        self.text.insert(index, text)


class FakeCollabApplication:
    def __init__(self) -> None:
        self.documents: dict[str, FakeDocument] = {}
        self.authorizations: list[tuple[str, str | None]] = []
        self.opened: list[FakeLink] = []

    def document(self, name: str) -> FakeDocument:
        if name not in self.documents:
            self.documents[name] = FakeDocument(name)
        return self.documents[name]

    def trusts_cookies_from(self, origin: str | None, host: str | None) -> bool:
        return origin in (None, "http://app.example")

    async def authorize(self, document: str, token: str | None) -> Grant:
        self.authorizations.append((document, token))
        if token == "broken":
            raise RuntimeError("the application broke")
        if token not in USERS:
            raise Denied("unauthorized")
        fake = self.document(document)
        if fake.closed:
            raise Denied("session-ended")
        if token not in fake.members:
            raise Denied("not a participant of this session")
        return Grant(USERS[token], "readonly" if token == "reader" else "read-write")

    async def open(self, grant: Grant, document: str) -> FakeLink:
        fake = self.document(document)
        if fake.closed:
            raise Denied("session-ended")
        link = FakeLink(fake, grant)
        if fake.awareness.states:
            link.push(create_awareness_message(encode_awareness_update(fake.awareness, list(fake.awareness.states))))
        fake.links.add(link)
        self.opened.append(link)
        return link

    def close_document(self, name: str) -> None:
        fake = self.document(name)
        fake.closed = True
        for link in list(fake.links):
            link.push(None)

    async def wait_until(self, name: str, predicate, within: float = 10.0) -> None:
        """Waits until `predicate(document)` holds, re-checking after every change to it."""
        fake = self.document(name)

        async def check() -> None:
            while not predicate(fake):
                fake.changed.clear()
                await fake.changed.wait()

        await asyncio.wait_for(check(), within)


class MemoryTransport:
    """A CollabTransport that records what is sent; `block` holds sends back (a slow client)."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.sent: list[bytes] = []
        self.closed: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self.block = asyncio.Event()
        self.block.set()
        self.fail_sends = False

    def write_now(self, data: bytes) -> bool:
        """Takes the frame at once unless sends are held back or failing, as a socket with room would."""
        if not self.block.is_set() or self.fail_sends:
            return False
        self._record(data)
        return True

    async def send(self, data: bytes) -> None:
        await self.block.wait()
        if self.fail_sends:
            raise ConnectionError("peer gone")
        self._record(data)

    def _record(self, data: bytes) -> None:
        self.sent.append(data)
        self.frames.put_nowait(data)

    async def close(self, code: int, reason: str) -> None:
        if not self.closed.done():
            self.closed.set_result((code, reason))

    async def next(self, within: float = 5.0) -> bytes:
        return await asyncio.wait_for(self.frames.get(), within)

    async def close_code(self, within: float = 5.0) -> tuple[int, str]:
        return await asyncio.wait_for(asyncio.shield(self.closed), within)
