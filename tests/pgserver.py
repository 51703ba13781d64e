"""A throw-away PostgreSQL server for the tests: Debian's package, initdb into a temp folder, 127.0.0.1."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

ADMIN, ADMIN_PASSWORD = "admin", "admin-pw-8d1f"  # the superuser of the throw-away cluster only
UNPRIVILEGED = "postgres"  # the system user Debian's package makes: initdb refuses to run as root


def binaries() -> Path | None:
    """Debian's server binaries (/usr/lib/postgresql/<version>/bin), the newest, if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class Server:
    """One running cluster; `database()` makes a fresh database per test."""

    folder: Path
    port: int
    bin: Path
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def url(
        self, database: str = "postgres", user: str = ADMIN, password: str | None = ADMIN_PASSWORD
    ) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        name = f"t{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return name

    def admin(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(database), autocommit=True)

    def pg_ctl(self, *args: str) -> None:
        as_owner(
            [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), *args]
        )

    def serve(self) -> None:
        """(Re)starts the server on its port; pg_ctl -w returns once it accepts connections.
        fsync off: the tests kill clients, never the machine; the server's own durability is not ours."""
        self.pg_ctl(
            "-w", "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c full_page_writes=off",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)


def as_owner(command: list[str]) -> None:
    """Runs a server command as an unprivileged user (the tests may run as root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", UNPRIVILEGED, "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def start() -> Server:
    """initdb (password auth on TCP), then the server on a free port of 127.0.0.1, waited for by pg_ctl -w."""
    bin = binaries()
    if bin is None:
        reason = (
            "PostgreSQL's server is not installed: `make test` installs Debian's postgresql as root "
            "(scripts/ensure-test-tools); the PostgreSQL state tests cannot run here"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must run them: never a silent skip there
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="vod-audit-pg-"))
    (folder / "pw").write_text(ADMIN_PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(folder, UNPRIVILEGED)
        shutil.chown(folder / "pw", UNPRIVILEGED)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    as_owner(
        [str(bin / "initdb"), "-D", str(folder / "data"), "-U", ADMIN, f"--pwfile={folder / 'pw'}",
         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]
    )  # fmt: skip
    server = Server(folder, port, bin)
    server.serve()
    return server
