"""The production server: the app under Granian (a Rust HTTP server), built first if needed.

Granian parses HTTP and manages connections in Rust; its ASGI interface hands each
request to `dpgkg.web.gateway`, which waits on the client in the event loop (body,
slow readers, per-client limits) and runs the Flask app in a pool of threads. Each
worker process builds the app after the fork and starts its own pool of query
processes, so a runaway query occupies (and is killed in) a query process while
the worker's threads keep answering other requests.

Tuning: `Settings.threads`, `query_workers`, `query_in_memory`, `hold_bytes`,
`body_timeout`, `write_timeout`, `max_client_requests` (environment
``DPGKG_THREADS`` and so on).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os
import sys

from dpgkg.config import Settings
from dpgkg.store import StoreUnavailable, open_store

log = logging.getLogger(__name__)

USER_ERROR = 2  # the exit code of a source or asset that cannot be read, as the CLI's


def pool_config(settings: Settings) -> dict:
    """The query pool's Flask config: warm at start, sized from the settings."""
    return {
        "SPARQL_POOL_WARM": True,
        "SPARQL_WORKERS": settings.query_workers,
        "SPARQL_IN_MEMORY": settings.query_in_memory,
        "SPARQL_HOLD_BYTES": settings.hold_bytes,
    }


def server_options(settings: Settings, host: str, port: int, workers: int,
                   threads: int | None = None) -> dict:
    """Granian's options: ASGI (the gateway), `workers` processes."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    return {
        "address": host,
        "port": port,
        "interface": Interfaces.ASGI,
        "workers": workers,
        "websockets": False,  # the app has none (Granian logs that at every start)
        # A client that never finishes its request headers is dropped.
        "http1_settings": HTTP1Settings(header_read_timeout=int(settings.body_timeout * 1000)),
        # A worker that dies (out of memory, say) is replaced.
        "respawn_failed_workers": True,
        # The gateway logs each request itself, with its fields escaped.
        "log_access": False,
    }


def close_app(app) -> None:
    """A server worker's end: its query and validation processes, then the store (RocksDB
    handles freed during interpreter shutdown can crash)."""
    from dpgkg.web import validate

    pool = app.extensions.get("dpgkg_querypool")
    if pool is not None:
        pool.close()
    validate.shutdown()
    app.extensions["dpgkg_store"].close()


def ensure_graph(settings: Settings, debug: bool = False) -> None:
    """Build the graph when the store holds none yet (in a child process, see `serve`)."""
    try:
        open_store(settings.store, settings=settings).version()
        return
    except StoreUnavailable:
        pass
    from dpgkg.build import build
    from dpgkg.config import AssetMissing
    from dpgkg.sources import SourceError

    log.warning("no graph in %s yet: building it first", settings.store)
    try:
        build(settings)
    except (SourceError, AssetMissing) as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)  # one line, as `dpgkg build` says it
        sys.exit(USER_ERROR)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080, workers: int = 2,
          threads: int | None = None, debug: bool = False) -> None:
    """Serve the app until interrupted."""
    from granian import Granian

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    # Check (and build) in a child process: RocksDB's threads in the server's main
    # process would be forked into every worker, which deadlocks or crashes them.
    checker = multiprocessing.get_context("spawn").Process(target=ensure_graph,
                                                           args=(settings, debug))
    checker.start()
    checker.join()
    if checker.exitcode == USER_ERROR:
        raise SystemExit(USER_ERROR)
    if checker.exitcode != 0:
        raise SystemExit(f"no graph to serve in {settings.store} and the build failed")

    main_pid = os.getpid()

    def load_app(_target: str):
        # Runs in each worker after the fork: the store and the query pool are per
        # process. A worker must not outlive a killed main process: it would keep
        # answering on the shared socket, unsupervised.
        from dpgkg.publish.querypool import die_with_parent
        from dpgkg.web import create_app
        from dpgkg.web.gateway import Gateway

        die_with_parent(main_pid)
        app = create_app(settings, pool_config(settings))
        # Run before multiprocessing's exit handler, which would otherwise wait forever
        # for the validation process to end.
        multiprocessing.util.Finalize(None, close_app, args=(app,), exitpriority=10)
        # More threads than cores on purpose: a thread mostly waits for its query
        # process, and a runaway query must not hold the last one.
        return Gateway(app, settings, threads)

    Granian("dpgkg.web:create_app", **server_options(settings, host, port, workers, threads)
            ).serve(target_loader=load_app)
