"""The ASGI gateway between Granian and the WSGI app: slow or abusive clients cost no thread.

Under Granian's WSGI interface an app thread reads the request body and writes the
response, so a client that stalls either holds that thread; 16 such clients took a
two-worker server down. Here the event loop does all waiting on clients, and the
app's threads only compute:

- the body is read in the loop, within `body_timeout` seconds in all, and refused
  with 413 past `max_body_bytes` whether it is announced by Content-Length or sent
  chunked (a chunked body is never cut short and run);
- the app runs in a thread pool on the complete body; each response chunk is
  computed in a thread and written from the loop, and a client that reads nothing
  for `write_timeout` seconds loses the response (the app's iterator is closed, so a
  query process streaming to it is freed);
- one client address may have `max_client_requests` requests open at once, the
  next get 429, and may use half the app threads at once, its other requests waiting
  in the loop, so a client whose requests wait on query processes cannot take every
  thread from the others; /health has a thread of its own;
- each request is logged here, one line with its fields escaped (method, path,
  status, milliseconds; never the client, the query string or the body).

a2wsgi does the same bridging but keeps a thread blocked on its send queue when the
client stops reading (its sender task ends and the queue stays full), which is the
defect this module exists to remove.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from dpgkg.config import Settings

log = logging.getLogger("dpgkg.access")

# The environ key of a request refused before its body was read: (status, detail), for
# the app to render like any other error.
REFUSED = "dpgkg.refused"
SEND_CHUNK = 256 * 1024  # write timeouts apply per chunk: a slow but steady reader is fine
FILE_BLOCK = 256 * 1024


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or []


class _ClientGone(Exception):
    pass


class FileWrapper:
    """`wsgi.file_wrapper`: a file sent in large blocks (werkzeug's send_file uses it)."""

    def __init__(self, file, block_size: int = FILE_BLOCK):
        self.file, self.block_size = file, block_size

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        data = self.file.read(self.block_size)
        if not data:
            raise StopIteration
        return data

    def close(self) -> None:
        self.file.close()


def escape_log(text: str) -> str:
    """A log field on one line: control characters and backslashes escaped."""
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


class Gateway:
    """An ASGI app that runs the WSGI `app` in `threads` threads, guarded as above."""

    def __init__(self, app, settings: Settings, threads: int | None = None,
                 access_log: bool | None = None):
        self.app = app
        self.settings = settings
        threads = threads or settings.threads
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="dpgkg-app")
        self.health = ThreadPoolExecutor(1, thread_name_prefix="dpgkg-health")
        self.access_log = settings.access_log if access_log is None else access_log
        self.open: dict[str, int] = {}
        self.thread_share = max(1, threads // 2)
        self.lanes: dict[str, asyncio.Semaphore] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        client = (scope.get("client") or ("", 0))[0]
        status = 500
        if self.open.get(client, 0) >= self.settings.max_client_requests:
            status = await self._refuse(send, _Refused(
                429, f"more than {self.settings.max_client_requests} requests open from "
                     "your address; wait for them to finish", [("Retry-After", "5")]))
            self._log(scope, status, started)
            return
        self.open[client] = self.open.get(client, 0) + 1
        if client not in self.lanes:
            self.lanes[client] = asyncio.Semaphore(self.thread_share)
        try:
            status = await self._serve(scope, receive, send, client)
        except _ClientGone:
            status = 499  # nginx's "client closed request", for the log only
        except Exception as exc:
            # The app failed after its response started (a query past its time limit while
            # streaming): raising makes the server cut the connection, so the client sees
            # an incomplete response, never a complete short one.
            log.info("response cut short: %s", escape_log(str(exc).splitlines()[0] if str(exc)
                                                            else type(exc).__name__))
            raise
        finally:
            left = self.open[client] - 1
            if left:
                self.open[client] = left
            else:
                del self.open[client]
                del self.lanes[client]
            self._log(scope, status, started)

    async def _serve(self, scope, receive, send, client: str) -> int:
        try:
            body = await self._read_body(scope, receive)
            environ = self._environ(scope, body, client)
        except _Refused as refused:
            environ = self._environ(scope, b"", client)
            environ[REFUSED] = (refused.status, refused.detail)
        loop = asyncio.get_running_loop()
        if scope["path"] == "/health":
            started = await loop.run_in_executor(self.health, self._start, environ)
        else:
            async with self.lanes[client]:
                started = await loop.run_in_executor(self.executor, self._start, environ)
        status, headers, chunks, iterator = started
        try:
            await self._send(send, {"type": "http.response.start", "status": status,
                                    "headers": headers})
            # A complete answer ends with its last chunk (one write less for a small one).
            last = len(chunks) - 1 if iterator is None else -1
            for i, chunk in enumerate(chunks):
                await self._send_body(send, chunk, more=i != last)
            while iterator is not None:
                chunk = await loop.run_in_executor(self.executor, next, iterator, None)
                if chunk is None:
                    break
                await self._send_body(send, chunk)
            if last == -1:
                await self._send(send, {"type": "http.response.body", "body": b""})
        finally:
            if iterator is not None and hasattr(iterator, "close"):
                await loop.run_in_executor(self.executor, iterator.close)
        return status

    # The request -------------------------------------------------------------------

    async def _read_body(self, scope, receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise _Refused(400, "Content-Length is not a number") from None
        if declared is not None and declared > limit:
            raise _Refused(413, f"the request body is {declared} bytes, over the limit of "
                                f"{limit} bytes")
        if declared == 0:
            return b""
        body = bytearray()
        deadline = time.monotonic() + self.settings.body_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                async with asyncio.timeout(remaining):
                    message = await receive()
            except TimeoutError:
                raise _Refused(408, f"the request body did not arrive within "
                                    f"{self.settings.body_timeout:g} s") from None
            if message["type"] == "http.disconnect":
                raise _ClientGone()
            body += message.get("body", b"")
            if len(body) > limit:
                raise _Refused(413, f"the request body is over the limit of {limit} bytes")
            if not message.get("more_body", False):
                return bytes(body)

    def _environ(self, scope, body: bytes, client: str) -> dict:
        server = scope.get("server") or ("localhost", 80)
        environ = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": "",
            "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope["query_string"].decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1] or 80),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": client,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        }
        for name, value in scope.get("headers", []):
            key = name.decode("latin-1").upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if key == "CONTENT_TYPE":
                    environ[key] = value.decode("latin-1")
                continue
            key = "HTTP_" + key
            text = value.decode("latin-1")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
        return environ

    # The response ------------------------------------------------------------------

    def _start(self, environ: dict):
        """In an app thread: run the app up to its first chunk. (status, headers, chunks
        ready now, the iterator for the rest or None)."""
        response: list = []

        def start_response(status: str, headers, exc_info=None):
            response[:] = [int(status.split(" ", 1)[0]),
                           [(k.lower().encode("latin-1"), v.encode("latin-1"))
                            for k, v in headers]]
            return lambda data: None  # the deprecated write(): no caller here uses it

        result = self.app(environ, start_response)
        if isinstance(result, (list, tuple)):
            return (*response, list(result), None)
        iterator = iter(result)
        try:
            first = next(iterator)
        except StopIteration:
            first = None
        except BaseException:
            if hasattr(result, "close"):
                result.close()
            raise
        closer = result if hasattr(result, "close") else iterator
        rest = _Chained(iterator, closer)
        return (*response, [first] if first else [], rest)

    async def _send(self, send, message: dict) -> None:
        try:
            async with asyncio.timeout(self.settings.write_timeout):  # no task, unlike wait_for
                await send(message)
        except TimeoutError:
            raise _ClientGone() from None
        except Exception:  # noqa: BLE001 - the server's way of saying the connection is gone
            raise _ClientGone() from None

    async def _send_body(self, send, data: bytes, more: bool = True) -> None:
        for at in range(0, max(len(data), 1), SEND_CHUNK):
            await self._send(send, {"type": "http.response.body",
                                    "body": data[at:at + SEND_CHUNK],
                                    "more_body": more or at + SEND_CHUNK < len(data)})

    async def _refuse(self, send, refused: _Refused) -> int:
        from werkzeug.http import HTTP_STATUS_CODES

        body = json.dumps({"error": {"status": refused.status,
                                     "title": HTTP_STATUS_CODES.get(refused.status, "Error"),
                                     "detail": refused.detail}}).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"),
                   *((k.lower().encode(), v.encode()) for k, v in refused.headers)]
        try:
            await self._send(send, {"type": "http.response.start", "status": refused.status,
                                    "headers": headers})
            await self._send(send, {"type": "http.response.body", "body": body})
        except _ClientGone:
            pass
        return refused.status

    def _log(self, scope, status: int, started: float) -> None:
        if self.access_log:
            log.info('"%s %s" %d %.1fms', escape_log(scope.get("method", "")),
                     escape_log(scope.get("path", "")), status,
                     (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.health.shutdown(wait=False, cancel_futures=True)


class _Chained:
    """The rest of a WSGI response: `iterator`, closed through the original iterable."""

    def __init__(self, iterator, closer):
        self.iterator, self.closer = iterator, closer

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.iterator)

    def close(self) -> None:
        close = getattr(self.closer, "close", None)
        if close is not None:
            close()
