"""How the app finds PostgreSQL: DATABASE_URL, a local server, a project-local cluster, or a clear stop."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

from clinic import database
from clinic.database import DatabaseNotFound, LocalCluster, Server, find_database_url

LOCAL = ("127.0.0.1", 5432)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_exists(server: Server, name: str) -> bool:
    with psycopg2.connect(
        host=server.host, port=server.port, user="postgres", dbname="postgres"
    ) as c:
        with c.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None


def _drop_database(server: Server, name: str) -> None:
    connection = psycopg2.connect(
        host=server.host, port=server.port, user="postgres", dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    connection.close()


def test_it_uses_database_url_when_set(tmp_path):
    url = "postgres://clinic:secret@db.internal:5432/clinic"
    assert find_database_url(base_dir=tmp_path, environ={"DATABASE_URL": url}) == url
    assert not (tmp_path / ".pgdata").exists()


@pytest.mark.skipif(not database.server_answers(Server(*LOCAL)), reason="no server on 5432")
def test_it_uses_the_local_server_and_creates_the_missing_database(tmp_path):
    name = f"heelclinic_probe_{uuid.uuid4().hex[:8]}"
    try:
        url = find_database_url(base_dir=tmp_path, environ={"DATABASE_NAME": name}, server=LOCAL)
        assert url == f"postgres://postgres@127.0.0.1:5432/{name}"
        assert _database_exists(Server(*LOCAL), name)
        # Asking again finds the database already there.
        assert (
            find_database_url(base_dir=tmp_path, environ={"DATABASE_NAME": name}, server=LOCAL)
            == url
        )
    finally:
        _drop_database(Server(*LOCAL), name)
    assert not (tmp_path / ".pgdata").exists()


@pytest.mark.skipif(database.find_server_binaries() is None, reason="no PostgreSQL server binaries")
def test_it_starts_a_project_local_cluster_when_no_server_answers():
    # A world-readable folder, since initdb runs as the postgres OS user when we are root.
    base = Path(tempfile.mkdtemp(prefix="heelclinic-cluster-"))
    os.chmod(base, 0o755)
    nobody = ("127.0.0.1", _free_port())
    port = _free_port()
    try:
        url = find_database_url(
            base_dir=base,
            environ={"DATABASE_NAME": "clinic_here"},
            server=nobody,
            cluster_port=port,
        )
        assert url == f"postgres://postgres@127.0.0.1:{port}/clinic_here"
        assert (base / ".pgdata" / "data" / "PG_VERSION").is_file()
        assert _database_exists(Server("127.0.0.1", port), "clinic_here")
        # A second call finds the running cluster instead of starting another.
        assert (
            find_database_url(
                base_dir=base,
                environ={"DATABASE_NAME": "clinic_here"},
                server=nobody,
                cluster_port=port,
            )
            == url
        )
    finally:
        LocalCluster(base / ".pgdata", port=port).stop()
        shutil.rmtree(base, ignore_errors=True)


def test_it_stops_with_instructions_when_nothing_is_available(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "find_server_binaries", lambda environ=os.environ: None)
    with pytest.raises(DatabaseNotFound) as stop:
        find_database_url(base_dir=tmp_path, environ={}, server=("127.0.0.1", _free_port()))
    message = str(stop.value)
    assert "DATABASE_URL" in message
    assert "apt-get install postgresql" in message
