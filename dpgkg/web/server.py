"""The production server: the app under Granian (a Rust HTTP server, WSGI), built first if needed.

Granian parses HTTP and manages connections in Rust and calls the app from a pool
of Python threads in each worker process; per request that costs a few tenths of
a millisecond less than gunicorn's gthread workers, which is most of the time a
cheap SPARQL query takes (bench/bench_sparql.py). Each worker process builds the
app after the fork and starts its own pool of query processes, so a runaway query
occupies (and is killed in) a query process while the worker's threads keep
answering other requests.

Tuning: `Settings.threads`, `query_workers`, `query_in_memory`, `hold_bytes`
(environment ``DPGKG_THREADS`` and so on).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os

from dpgkg.config import Settings
from dpgkg.store import StoreUnavailable, open_store

log = logging.getLogger(__name__)

# No client address and no query string: log lines must not carry personal data
# or query text. Method, path, status, milliseconds.
ACCESS_LOG_FORMAT = '"%(method)s %(path)s" %(status)d %(dt_ms).1fms'


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
    """Granian's options: WSGI, `workers` processes of `threads` app threads each."""
    from granian.constants import Interfaces

    return {
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": workers,
        "websockets": False,  # a WSGI app has none (Granian logs that at every start)
        # More threads than cores on purpose (Granian warns at start-up): a thread mostly
        # waits for its query process, and a runaway query must not hold the last one.
        "blocking_threads": threads or settings.threads,
        # A worker that dies (out of memory, say) is replaced.
        "respawn_failed_workers": True,
        "log_access": settings.access_log,
        "log_access_format": ACCESS_LOG_FORMAT,
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


def ensure_graph(settings: Settings) -> None:
    """Build the graph when the store holds none yet (in a child process, see `serve`)."""
    try:
        open_store(settings.store, settings=settings).version()
        return
    except StoreUnavailable:
        pass
    from dpgkg.build import build

    log.warning("no graph in %s yet: building it first", settings.store)
    build(settings)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080, workers: int = 2,
          threads: int | None = None) -> None:
    """Serve the app until interrupted."""
    from granian import Granian

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    # Check (and build) in a child process: RocksDB's threads in the server's main
    # process would be forked into every worker, which deadlocks or crashes them.
    checker = multiprocessing.get_context("spawn").Process(target=ensure_graph,
                                                           args=(settings,))
    checker.start()
    checker.join()
    if checker.exitcode != 0:
        raise SystemExit(f"no graph to serve in {settings.store} and the build failed")

    main_pid = os.getpid()

    def load_app(_target: str):
        # Runs in each worker after the fork: the store and the query pool are per
        # process. A worker must not outlive a killed main process: it would keep
        # answering on the shared socket, unsupervised.
        from dpgkg.publish.querypool import die_with_parent
        from dpgkg.web import create_app

        die_with_parent(main_pid)
        app = create_app(settings, pool_config(settings))
        # Run before multiprocessing's exit handler, which would otherwise wait forever
        # for the validation process to end.
        multiprocessing.util.Finalize(None, close_app, args=(app,), exitpriority=10)
        return app

    Granian("dpgkg.web:create_app", **server_options(settings, host, port, workers, threads)
            ).serve(target_loader=load_app)
