"""A short-lived HTTP server the store LOADs a version's graphs from."""

from __future__ import annotations

import http.server
import secrets
import socket
import threading
from typing import Self

import pyoxigraph as ox


class _GraphServer:
    """Serves each named graph of a dataset as N-Triples at an unguessable URL, for LOAD.

    Lives for one publish; a request for anything else gets 404.
    """

    def __init__(self, dataset: ox.Store, graphs: list[str], address: tuple[str, int]):
        token = secrets.token_urlsafe(16)
        self.paths = {f"/{token}/{i}.nt": ox.NamedNode(g) for i, g in enumerate(graphs)}
        self.served = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, for stores that reuse connections

            def do_GET(self):
                graph = outer.paths.get(self.path)
                if graph is None:
                    self.send_error(404)
                    return
                body = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in
                                     dataset.quads_for_pattern(None, None, None, graph)),
                                    format=ox.RdfFormat.N_TRIPLES)
                self.send_response(200)
                self.send_header("Content-Type", "application/n-triples")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.served += 1

            timeout = 60  # an idle kept-alive connection is closed after this

            def log_message(self, format, *args):
                pass  # quiet

        host, port = address
        server_class = type("Server", (http.server.ThreadingHTTPServer,), {
            "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET,
            "daemon_threads": True})
        self.httpd = server_class((host, port), Handler)
        bound = self.httpd.server_address[1]
        self.base = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
        self.token = token
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="dpgkg-load",
                                       daemon=True)

    def url(self, i: int) -> str:
        return f"{self.base}/{self.token}/{i}.nt"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
