"""What ``detente serve`` takes before its node starts, so that a node that cannot serve never
pushes a checkpoint to its peers or writes a record: the address it listens on (checked, then
bound here and handed to the server: no other process can take it in between) and its store,
held against a second ``serve`` (an advisory lock: ``flock`` on a lock file beside a SQLite
database, ``pg_try_advisory_lock`` on a PostgreSQL schema; the operating system or the server
drops it when the process ends, however it ends)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from detente.errors import ConfigError, MalformedError

__all__ = ["bind", "check_listen", "hold_store"]


def check_listen(listen: str, *, where: str) -> tuple[str, int]:
    """``(host, port)`` of a ``host:port``, or a typed error naming ``where`` it came from."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise MalformedError(
            f"{where} {listen!r} is not host:port with a port from 1 to 65535",
            hint="e.g. --listen 127.0.0.1:8441 (each node on a port of its own)",
        )
    return host.strip("[]"), int(port)


def bind(host: str, port: int, *, where: str) -> socket.socket:
    """A listening socket on ``host:port``; a port in use is a typed error with a hint."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"{host}:{port} is in use by another process; the node was not started",
                hint=f"stop that process (another detente serve?), or choose a free port for listen in {where}",
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}; the node was not started",
            hint=f"fix listen in {where}",
        ) from None
    # Answers leave at once (no Nagle delay): asyncio sets TCP_NODELAY only on the connections of a
    # socket it made with proto IPPROTO_TCP, and this one has proto 0, so every answer waited ~40 ms
    # for the client's delayed ACK. Accepted connections inherit the option from the listener.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@contextlib.contextmanager
def hold_store(store_url: str) -> Iterator[None]:
    """Hold the store for this process while the block runs, or refuse when another holds it."""
    if store_url.startswith(("postgresql://", "postgres://")):
        with _hold_postgres(store_url):
            yield
        return
    path = Path(store_url.removeprefix("sqlite:///"))
    lock = path.with_name(path.name + ".serve-lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise _held(str(path), f"process {holder}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def _hold_postgres(store_url: str) -> Iterator[None]:
    import psycopg

    conninfo, _, schema = store_url.partition("#")
    schema = schema or "detente"
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot reach the store to hold it: {exc.__class__.__name__}", hint="check the store URL in detente.toml"
        ) from None
    with conn:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"detente serve {schema}",))
        got = row.fetchone()
        if not got or not got[0]:
            raise _held(f"schema {schema}", "another connection")
        yield  # the lock goes with the connection


def _held(store: str, holder: str) -> ConfigError:
    return ConfigError(
        f"the store ({store}) is held by another detente serve ({holder}); the node was not started",
        hint="one serve per store: stop the other one first (it holds the store until it ends)",
    )
