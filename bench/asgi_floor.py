"""The floor under dpgkg's server, for bench/bench_fixed_cost.py: Granian's ASGI
interface with an app that answers at once (`/direct`) or after a hop through a thread
pool, as dpgkg's gateway does for every request (`/thread`). Run by Granian:

    granian --interface asgi --working-dir bench asgi_floor:app
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

ANSWER = b'{"head":{},"boolean":true}'
_threads = ThreadPoolExecutor(8)


def _answer() -> bytes:
    return ANSWER


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = ANSWER
    if scope["path"] == "/thread":
        body = await asyncio.get_running_loop().run_in_executor(_threads, _answer)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/sparql-results+json")]})
    await send({"type": "http.response.body", "body": body})
