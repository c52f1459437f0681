"""Start real SPARQL servers for the remote-store tests: the Oxigraph server and Virtuoso.

Each server runs as a child process on free 127.0.0.1 ports with its data under a
directory we choose, so it can be killed and restarted on the same data. The
binaries come from `.ci/stores.sh`; without them the fixtures skip.

    python -m tests.stores DIR     start both, print their specs, wait for Ctrl-C
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

# What Virtuoso ships with, and what the tests log in with for updates
# (digest auth on /sparql-auth, the way a production deployment would write).
VIRTUOSO_USER = "dba"
VIRTUOSO_PASSWORD = "dba"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds}s:\n"
                       + log.read_text(errors="replace")[-3000:])


class Server:
    """One server process over one data directory; `kill()` then `start()` keeps the data."""

    kind = ""
    binary = ""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "server.log"

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.binary) is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spec(self) -> str:
        return f"{self.kind}+{self.url}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> Server:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.root, start_new_session=True)
        _wait_http(self.ready_url(), self.proc, self.log, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, no checkpoint."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


class OxigraphServer(Server):
    kind = "oxigraph"
    binary = "oxigraph"

    def command(self) -> list[str]:
        return [shutil.which(self.binary), "serve", "--location", str(self.root / "data"),
                "--bind", f"127.0.0.1:{self.port}"]

    def ready_url(self) -> str:
        return f"{self.url}/query?query=ASK%7B%7D"


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
AllowOSCalls = 0
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
VADInstallDir = /usr/share/virtuoso-opensource-7/vad/
TransactionAfterImageLimit = 500000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}/vsp
MaxClientConnections = 10
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
HTTPThreadSize = 280000
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 60
DefaultGraph =
"""


class VirtuosoServer(Server):
    """Virtuoso with its own database under `root`; updates go to /sparql-auth as dba."""

    kind = "virtuoso"
    binary = "virtuoso-t"

    def __init__(self, root: Path):
        super().__init__(root)
        self.sql_port = free_port()
        (self.root / "db").mkdir(exist_ok=True)
        (self.root / "db" / "vsp").mkdir(exist_ok=True)
        self.ini = self.root / "virtuoso.ini"
        self.ini.write_text(VIRTUOSO_INI.format(d=self.root / "db", sql_port=self.sql_port,
                                                http_port=self.port))

    def command(self) -> list[str]:
        return [shutil.which(self.binary), "+configfile", str(self.ini), "+foreground"]

    def ready_url(self) -> str:
        return f"{self.url}/sparql?query=ASK%7B%7D"

    def start(self, timeout: float = 120) -> VirtuosoServer:
        # A new database is created on first start, which takes a while.
        super().start(timeout)
        return self


SERVERS = {"oxigraph": OxigraphServer, "virtuoso": VirtuosoServer}


def main(argv: list[str]) -> None:
    root = Path(argv[0] if argv else "var/test-stores").resolve()
    servers = [cls(root / name).start() for name, cls in SERVERS.items() if cls.available()]
    for s in servers:
        print(s.spec, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
