"""The production server: the app under gunicorn (gthread workers), built first if needed.

Each gunicorn worker process builds the app after the fork and starts its own
pool of query processes, so a runaway query occupies (and is killed in) a query
process, while the worker's threads keep answering other requests.

Tuning: `Settings.threads`, `query_workers`, `query_in_memory`, `hold_bytes`
(environment ``DPGKG_THREADS`` and so on).
"""

from __future__ import annotations

import logging
import multiprocessing

from gunicorn.app.base import BaseApplication

from dpgkg.config import Settings
from dpgkg.store import StoreUnavailable, open_store

log = logging.getLogger(__name__)

# No client address and no query string: log lines must not carry personal data
# or query text. Method, path, status, bytes, milliseconds.
ACCESS_LOG_FORMAT = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def pool_config(settings: Settings) -> dict:
    """The query pool's Flask config: warm at start, sized from the settings."""
    return {
        "SPARQL_POOL_WARM": True,
        "SPARQL_WORKERS": settings.query_workers,
        "SPARQL_IN_MEMORY": settings.query_in_memory,
        "SPARQL_HOLD_BYTES": settings.hold_bytes,
    }


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict, app_config: dict):
        self.settings = settings
        self.options = options
        self.app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Runs in each worker after the fork: the store and the query pool are per process.
        from dpgkg.web import create_app

        return create_app(self.settings, self.app_config)


def gunicorn_options(settings: Settings, host: str, port: int, workers: int,
                     threads: int | None = None) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads or settings.threads,
        # Requests are bounded by the query timeout; the worker timeout is only a
        # last resort against a stuck worker.
        "timeout": int(max(30, settings.query_timeout * 3)),
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "dpgkg",
        "worker_exit": _worker_exit,
    }


def _worker_exit(server, worker) -> None:
    # Stop the query processes and drop the store before the interpreter tears
    # down: RocksDB handles freed during interpreter shutdown can crash.
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", {})
    pool = extensions.get("dpgkg_querypool")
    if pool is not None:
        pool.close()
    store = extensions.get("dpgkg_store")
    if store is not None:
        store.close()


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    # Check (and build) in a child process: RocksDB's threads in the gunicorn master
    # would be forked into every worker, which deadlocks or crashes them.
    checker = multiprocessing.get_context("spawn").Process(target=ensure_graph,
                                                           args=(settings,))
    checker.start()
    checker.join()
    if checker.exitcode != 0:
        raise SystemExit(f"no graph to serve in {settings.store} and the build failed")
    _Gunicorn(settings, gunicorn_options(settings, host, port, workers, threads),
              pool_config(settings)).run()
