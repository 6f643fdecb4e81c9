"""Running a user's concurrent steps so that one failure stops them all."""

from __future__ import annotations

import asyncio


async def all_or_none(*coroutines):
    """The results of running the coroutines at once; if one fails, the others are cancelled and its error raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
