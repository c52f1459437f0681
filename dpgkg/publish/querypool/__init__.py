"""SPARQL queries in a pool of worker processes that can be killed at the time limit.

Oxigraph cannot cancel a query, so each query runs in a warm worker process that
holds the read-only store open (optionally copied into memory). The worker
serialises the answer in the negotiated format and sends it back as framed byte
chunks over a pipe; the web process only forwards bytes. When a query passes
its deadline the web process kills that worker (SIGKILL, instant) and a spare is
forked in the background; other requests keep using the other workers.

Frames, both ways: 1 byte type, 4 bytes big-endian length, payload.

    web -> worker   Q  JSON request {query, default, named, result_format, graph_format}
    worker -> web   R  ready (once, after the store is open), JSON {network, version}
                    S  this copy's version is no longer served: it ends, a fresh fork
                       takes the query
                    H  JSON {"format": name}: the query ran, the answer follows
                    D  bytes of the answer
                    Z  end of the answer
                    E  JSON {"status", "message"}: an error instead of (or during) the answer

The answer is held back (in memory up to `spool_memory`, then in a temporary
file) until it is complete or reaches `hold_bytes`, so every query that fails or
times out before then gets a proper error status. Larger answers are streamed;
a timeout while streaming can only cut the connection, which clients see as an
incomplete response, never as a complete short answer.

Run as ``python -m dpgkg.publish.querypool STORE [--in-memory] [--no-network] [--parent PID]``
(`worker.py`), forked by the fork server (`zygote.py`, ``--fork-server``);
`framing.py` is the protocol, `pool.py` the web process's side, `answer.py` what a
query gives it back.
"""

from dpgkg.publish.querypool.answer import Answer
from dpgkg.publish.querypool.pool import QueryPool
from dpgkg.publish.querypool.worker import die_with_parent, isolate_network

__all__ = ["Answer", "QueryPool", "die_with_parent", "isolate_network"]
