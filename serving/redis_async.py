"""Redis commands on the event loop, bounded like the API's blocking ones.

redis-py's asyncio client honours `socket_timeout` by wrapping each write in a task of its own;
`asyncio.timeout` around the command costs nothing of the sort. A command that outlives it
raises `redis.TimeoutError`, the same error as a blocking command's, so the app's handler of
Redis errors answers 503 whichever client asked (an outage never lets a request through that
Redis had to vouch for).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis


@asynccontextmanager
async def bounded(timeout_s: float) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError as exc:
        raise redis.TimeoutError(f"Redis did not answer within {timeout_s} s") from exc
