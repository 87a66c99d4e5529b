"""Where the app finds its PostgreSQL database.

In order:
1. ``DATABASE_URL`` if it is set;
2. otherwise a server on localhost:5432 as role ``postgres``, if one answers
   (the database is created if it is missing);
3. otherwise a project-local cluster in ``.pgdata/`` (ignored by git), created
   and started from the machine's PostgreSQL server binaries;
4. otherwise stop with a message that says what to install or what to set.

PostgreSQL is the only database the product runs on: the booking rules rely on
its exclusion constraints and triggers.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import errors, sql

DEFAULT_NAME = "heelclinic"
LOCAL_SERVER = ("127.0.0.1", 5432)
LOCAL_CLUSTER_PORT = 54329

HOW_TO_INSTALL = """\
No PostgreSQL database could be found.

The app looked for, in order:
  1. the DATABASE_URL environment variable (not set);
  2. a PostgreSQL server on 127.0.0.1:5432 accepting the role "postgres" (none answered);
  3. PostgreSQL server binaries (initdb, pg_ctl) to start a project-local cluster in .pgdata/
     (none found).

Do one of these, then run the command again:
  - install PostgreSQL 14 or newer:
      Debian/Ubuntu:  sudo apt-get install postgresql
      Fedora:         sudo dnf install postgresql-server
      macOS:          brew install postgresql@16
  - or point the app at a server you have:
      export DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/{name}
"""


class DatabaseNotFound(RuntimeError):
    """No PostgreSQL server could be reached, started or configured."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str = "postgres"

    def url(self, name: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{name}"


def find_database_url(
    *,
    base_dir: Path,
    environ: dict[str, str] | os._Environ = os.environ,
    server: tuple[str, int] = LOCAL_SERVER,
    cluster_port: int = LOCAL_CLUSTER_PORT,
) -> str:
    """Return a URL for the app's database, starting a local cluster if needed."""
    if environ.get("DATABASE_URL"):
        return environ["DATABASE_URL"]
    name = environ.get("DATABASE_NAME") or DEFAULT_NAME

    candidate = Server(*server)
    if server_answers(candidate):
        ensure_database(candidate, name)
        return candidate.url(name)

    cluster = LocalCluster(base_dir / ".pgdata", port=cluster_port)
    local = cluster.ensure_running()
    ensure_database(local, name)
    return local.url(name)


def server_answers(server: Server, timeout: int = 2) -> bool:
    try:
        connection = psycopg2.connect(
            host=server.host,
            port=server.port,
            user=server.user,
            dbname="postgres",
            connect_timeout=timeout,
        )
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def ensure_database(server: Server, name: str) -> None:
    """Create the database ``name`` on ``server`` unless it exists already."""
    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres", connect_timeout=5
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return
            # Two processes starting at once may both get here; the loser's error is harmless.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def find_server_binaries(environ: dict[str, str] | os._Environ = os.environ) -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    candidates: list[Path] = []
    if environ.get("PG_BINDIR"):
        candidates.append(Path(environ["PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            candidates.append(Path(out))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)

    def version_key(path: str) -> tuple[int, ...]:
        digits = "".join(ch if ch.isdigit() else " " for ch in path).split()
        return tuple(int(d) for d in digits)

    patterns = [
        "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
        "/usr/pgsql-*/bin",  # Fedora, RHEL (PGDG)
        "/opt/homebrew/opt/postgresql@*/bin",  # macOS, Apple silicon
        "/usr/local/opt/postgresql@*/bin",  # macOS, Intel
        "/Applications/Postgres.app/Contents/Versions/*/bin",
    ]
    for pattern in patterns:
        candidates.extend(
            Path(p) for p in sorted(glob.glob(pattern), key=version_key, reverse=True)
        )
    candidates.append(Path("/usr/local/pgsql/bin"))

    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


class LocalCluster:
    """A PostgreSQL cluster kept in a project folder, for machines with no server running.

    ``initdb`` and ``postgres`` refuse to run as root, so when we are root the
    cluster belongs to, and runs as, the ``postgres`` OS user.
    """

    def __init__(self, folder: Path, *, port: int = LOCAL_CLUSTER_PORT, bindir: Path | None = None):
        self.folder = Path(folder).resolve()
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = port
        self._bindir = bindir

    @property
    def server(self) -> Server:
        return Server("127.0.0.1", self.port)

    def ensure_running(self) -> Server:
        bindir = self._bindir or find_server_binaries()
        if bindir is None:
            raise DatabaseNotFound(HOW_TO_INSTALL.format(name=DEFAULT_NAME))
        self.folder.mkdir(parents=True, exist_ok=True)
        owner = self._run_as()
        if owner:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        # A lock, so two processes starting together (the dev server's reloader,
        # parallel test workers) do not both run initdb or pg_ctl start.
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if server_answers(self.server, timeout=1):
                return self.server
            if not (self.data / "PG_VERSION").is_file():
                self._initdb(bindir)
            self._start(bindir)
        if not server_answers(self.server, timeout=5):
            raise DatabaseNotFound(
                f"The local PostgreSQL cluster in {self.data} did not start; see {self.log}."
            )
        return self.server

    def stop(self) -> None:
        bindir = self._bindir or find_server_binaries()
        if bindir is None or not (self.data / "PG_VERSION").is_file():
            return
        self._call(
            [str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False
        )

    def _initdb(self, bindir: Path) -> None:
        self._call(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ]
        )

    def _start(self, bindir: Path) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._call(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    @staticmethod
    def _run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise DatabaseNotFound(
                "Running as root, and PostgreSQL refuses to run as root: create a 'postgres' "
                "OS user (installing PostgreSQL does), run as an ordinary user, or set DATABASE_URL."
            ) from None

    def _call(self, command: list[str], *, check: bool = True) -> None:
        owner = self._run_as()
        if owner:
            command = ["runuser", "-u", owner.pw_name, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if check and result.returncode != 0:
            raise DatabaseNotFound(
                f"Could not set up the local PostgreSQL cluster in {self.folder}:\n"
                f"$ {' '.join(command)}\n{result.stdout}{result.stderr}"
            )
