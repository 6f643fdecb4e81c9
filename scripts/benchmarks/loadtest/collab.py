"""One simulated collab session: two users matched with a topic of their own (so no admin is needed),
both editors connected to the session the pool made, `edits` edits each every `edit_every` seconds,
every edit timed until the partner has applied it; then the session is ended and the sockets closed.
"""

from __future__ import annotations

import asyncio

from benchmarks.loadtest.collab_client import CollabEditor
from benchmarks.loadtest.context import Context
from benchmarks.loadtest.http_api import StepFailed
from benchmarks.loadtest.matching import end_session, queue_then_match
from benchmarks.loadtest.tasks import all_or_none


class CollabSession:
    def __init__(self, context: Context, index: int) -> None:
        self.context = context
        self.index = index
        self.random = context.random_for("collab", index)
        self.editors: list[CollabEditor] = []

    async def run(self) -> None:
        context, recorder = self.context, self.context.recorder
        try:
            async with context.setup_slots:
                first, second = await context.users.pair()
                match, _ = await queue_then_match(context, first, second, f"lt-{context.users.run}-collab-{self.index}")
                session_id = match["roomId"]
                context.live_sessions[session_id] = first
                self.editors = [
                    CollabEditor(recorder, context.options.collab_protocol, context.ws_base, session_id, user)
                    for user in (first, second)
                ]
                await all_or_none(*(editor.open(context.options.timeout) for editor in self.editors))
                recorder.count("collab_started")
            one, other = self.editors
            await all_or_none(self.edit(one, other), self.edit(other, one))
            await self.all_relayed()
            await end_session(context, session_id, first)
            recorder.count("collab_completed")
        except StepFailed:
            recorder.count("collab_failed")
        finally:
            await asyncio.gather(*(editor.close() for editor in self.editors))

    async def edit(self, editor: CollabEditor, partner: CollabEditor) -> None:
        options = self.context.options
        await asyncio.sleep(self.random.uniform(0, options.edit_every))
        for number in range(options.edits):
            if editor.failed:
                raise StepFailed("collab connection lost")
            await editor.edit(f"<{editor.user.id}:{number}>", partner)
            self.context.recorder.count("edits")
            await asyncio.sleep(options.edit_every)

    async def all_relayed(self) -> None:
        try:
            async with asyncio.timeout(self.context.options.timeout):
                await asyncio.gather(*(editor.all_seen.wait() for editor in self.editors))
        except TimeoutError:
            lost = sum(len(editor.expected) for editor in self.editors)
            self.context.recorder.error("collab edit never reached the partner")
            self.context.recorder.count("edits_lost", lost)
            raise StepFailed("relay") from None
