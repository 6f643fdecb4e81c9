"""The directory's journal: every placement it made, kept in Ray's GCS key-value store.

The directory lives in a host's process (`host-0`). When that process dies, the actors of
its own host die with it, and the other hosts can report only the actors they hold live,
not those they passivated. The journal is how the restarted directory knows them all: its
own host wakes the actors it held (their deadlines fire unasked), and no actor is placed a
second time on another host while a front still sends it to the first.

Writes leave the event loop (one thread hop, one GCS call per batch) and are not awaited
by the placement that caused them: an activation does not wait for the GCS. The price is a
window of one GCS call in which a crash loses the newest ids; those actors were being
activated on the host that died, and their first messages failed with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from ray.experimental import internal_kv

log = logging.getLogger("peerprep.actors.journal")


class PlacementJournal:
    def __init__(self, namespace: str, key_prefix: str) -> None:
        self.namespace = namespace
        self.key_prefix = key_prefix
        self._writes: set[asyncio.Future] = set()

    def _keys(self) -> list[bytes]:
        return internal_kv._internal_kv_list(self.key_prefix, namespace=self.namespace)

    def read(self) -> dict[str, set[str]]:
        """{host name: the ids placed on it} journaled so far (blocking: once, when the directory starts)."""
        placed: dict[str, set[str]] = {}
        for key in self._keys():
            value = internal_kv._internal_kv_get(key, namespace=self.namespace)
            for host, ids in json.loads(value or b"{}").items():
                placed.setdefault(host, set()).update(ids)
        return placed

    def reset(self, placed: dict[str, set[str]]) -> None:
        """Replace the journal by `placed` in one entry (blocking, at start: a fresh directory passes
        nothing, a restarted one what it read, so the journal does not grow a key per batch forever)."""
        internal_kv._internal_kv_del(self.key_prefix, del_by_prefix=True, namespace=self.namespace)
        if placed:
            self._put(placed)

    def append(self, placed: dict[str, set[str]]) -> None:
        """Journal `placed` ({host name: new ids}) in the background (one GCS call)."""
        write = asyncio.get_running_loop().run_in_executor(None, self._put, placed)
        self._writes.add(write)
        write.add_done_callback(self._written)

    def _put(self, placed: dict[str, set[str]]) -> None:
        value = json.dumps({host: sorted(ids) for host, ids in placed.items()})
        internal_kv._internal_kv_put(f"{self.key_prefix}{uuid.uuid4().hex}", value, namespace=self.namespace)

    def _written(self, write: asyncio.Future) -> None:
        self._writes.discard(write)
        if not write.cancelled() and write.exception() is not None:
            log.error("the directory could not journal placements: %r", write.exception())
