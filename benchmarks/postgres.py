"""A throwaway PostgreSQL server on 127.0.0.1, for the tests and the benchmarks:
`initdb` into a new folder, `pg_ctl start` on a free port, removed at the end.

    cluster = PostgresCluster.start()     # or raises PostgresUnavailableError, saying why
    url = cluster.create_database("shop") # postgresql://microroute@127.0.0.1:PORT/shop
    ...
    cluster.destroy()

The binaries come from PATH, else from Debian's /usr/lib/postgresql/<version>/bin.
PostgreSQL refuses to run as root, so under root every server command runs as the
unprivileged `postgres` user (Debian's package makes it) through `runuser`.
Durability is off (`fsync`, `synchronous_commit`): the data is thrown away, and
nothing here measures disks.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import processes

USER = "microroute"  # the cluster's superuser; local connections are trusted
RUN_AS = "postgres"  # who runs the server when we are root


class PostgresUnavailableError(RuntimeError):
    """This machine cannot run a PostgreSQL server; the message says why."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    # Debian installs the server outside PATH, one folder per major version.
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda path: int(path.split("/")[4]))
    if versions:
        return versions[-1]
    raise PostgresUnavailableError(
        f"no `{name}` on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL"
        " (Debian: apt-get install postgresql)"
    )


class PostgresCluster:
    """One PostgreSQL server in a folder of its own; see the module docstring."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = port

    @classmethod
    def start(cls) -> PostgresCluster:
        """initdb a new cluster in a new temporary folder and start its server."""
        initdb = _binary("initdb")
        if os.geteuid() == 0 and not shutil.which("runuser"):
            raise PostgresUnavailableError("running as root, and no `runuser` to run PostgreSQL as"
                                      f" {RUN_AS!r}")
        folder = Path(tempfile.mkdtemp(prefix="microroute-pg-"))
        cluster = cls(folder, processes.free_port())
        try:
            if os.geteuid() == 0:
                try:
                    shutil.chown(folder, RUN_AS)
                except LookupError:
                    raise PostgresUnavailableError(
                        f"running as root, and there is no {RUN_AS!r} user to run PostgreSQL as"
                    ) from None
            cluster._run(initdb, "-D", str(cluster.data), "-U", USER, "--auth=trust",
                         "--no-sync", "--encoding=UTF8", "--locale=C")
            cluster.start_server()
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg  # a test dependency; only the caller of this needs it

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start_server(self) -> None:
        """Start (again) the server, and wait until it takes connections."""
        self._run(
            _binary("pg_ctl"), "start", "--wait", "--timeout=30", "-D", str(self.data),
            "-l", str(self.log),
            "-o", (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   " -c max_connections=200"),
        )

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: ends every session, as a restart does)."""
        self._run(_binary("pg_ctl"), "stop", "--wait", "--timeout=30", "-m", mode,
                  "-D", str(self.data))

    def destroy(self) -> None:
        """Stop the server if it runs, and remove its folder."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            try:
                self.stop_server("immediate")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, 9)  # the postmaster we started; its children follow it
                time.sleep(0.5)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", RUN_AS, "--", *command)
        done = subprocess.run(command, cwd=self.folder, capture_output=True, timeout=60)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresUnavailableError(
                f"{' '.join(command)} failed ({done.returncode}):\n"
                f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}"
                f"{log}"
            )
