"""The live progress line: rewritten in place on a terminal, printed every few seconds otherwise."""

from __future__ import annotations

import asyncio
import shutil
import sys
from typing import TextIO

from benchmarks.loadtest.context import Context
from benchmarks.loadtest.recorder import PUSH, REQUEST, summary
from benchmarks.loadtest.server_probe import ServerMonitor

LINE_EVERY_SECONDS = 5  # without a terminal


def status_line(context: Context, monitor: ServerMonitor) -> str:
    recorder, options, counts = context.recorder, context.options, context.recorder.counts
    push = summary(recorder.recent(PUSH))
    push_text = f"p50 {push['p50']:.0f} p99 {push['p99']:.0f} ms" if push["count"] else "-"
    parts = [
        f"{recorder.elapsed():5.0f}s",
        f"rooms {counts['rooms_started']}/{options.rooms} live {len(context.live_rooms)} "
        f"done {counts['rooms_completed']}",
        f"submits {counts['submissions']} ({recorder.rate('submissions'):.0f}/s) push {push_text}",
        f"collab {counts['collab_started']}/{options.collab} edits {counts['edits']}",
        f"matches {counts['matches']}/{options.matching // 2}",
        f"{recorder.rate(REQUEST):.0f} req/s",
        f"errors {sum(recorder.errors.values())}",
    ]
    if monitor.latest_cores is not None:
        parts.append(f"server {monitor.latest_cores:.2f} cores {monitor.latest_memory / 2**20:.0f} MiB")
    return " | ".join(parts)


async def show_progress(context: Context, monitor: ServerMonitor, stream: TextIO = sys.stderr) -> None:
    terminal = stream.isatty()
    tick = 0
    try:
        while True:
            await asyncio.sleep(1)
            tick += 1
            line = status_line(context, monitor)
            if terminal:
                width = shutil.get_terminal_size().columns
                stream.write("\r\x1b[K" + line[: width - 1])
                stream.flush()
            elif tick % LINE_EVERY_SECONDS == 0:
                print(line, file=stream, flush=True)
    finally:
        if terminal:
            stream.write("\n")
            stream.flush()
