"""HTTP client for another node's public endpoints (tlog-tiles, tlog-witness), with hard size
limits so a hostile peer cannot exhaust memory, and a deadline on each whole exchange.

Bounds a hostile peer meets here:
- every answer is read raw, never decompressed: requests say ``Accept-Encoding: identity`` and
  an answer with any other ``Content-Encoding`` is refused before its body is read (a 8 KiB zstd
  body would otherwise inflate to hundreds of MiB inside httpx before any size check);
- the size limit of each kind of answer, counted as the bytes arrive;
- ``timeout`` bounds the whole exchange, headers included: httpx's timeouts bound each read, so a
  peer that sends a header line every few hundred milliseconds would otherwise hold a sync for
  as long as it likes. The connections go through :class:`_DeadlineBackend`, which gives each
  socket read or write no more than what is left of the exchange's time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from detente.errors import LogNotFound, MalformedTile, StoreUnavailable
from detente.tlog.tiles import TILE_WIDTH, TileID, build_stored_tile, decode_entry_bundle, nodes_from_tiles

__all__ = ["PeerClient"]

MAX_CHECKPOINT = 64 * 1024  # a note may carry 100 signature lines; only the verified ones are kept
MAX_TILE = TILE_WIDTH * 32
MAX_BUNDLE = TILE_WIDTH * (2 + 0xFFFF)
MAX_COSIGNATURES = 32 * 1024 * 1024  # 100,000 rows of a few hundred bytes
_IDENTITY = {"Accept-Encoding": "identity"}

_deadline: ContextVar[float | None] = ContextVar("detente_peer_deadline", default=None)
"""When the exchange under way on this thread must be over (``time.monotonic()``), if any."""


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    """The timeout for one socket operation: no more than what is left of the exchange."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the exchange ran past its deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):  # type: ignore[no-untyped-def]
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str):  # type: ignore[no-untyped-def]
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own backend, each stream's reads and writes bounded by the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple] | None = None,  # type: ignore[type-arg]
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[tuple] | None = None,  # type: ignore[type-arg]
    ) -> httpcore.NetworkStream:
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _transport() -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    # httpx has no public way to hand its pool a network backend; the pool keeps it in
    # ``_network_backend`` (httpcore 1.0, pinned in constraints.txt). A test fails if this stops
    # taking effect (tests/federation/test_peer_client_bounds.py).
    pool = transport._pool
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


@contextmanager
def _within(seconds: float) -> Iterator[float]:
    deadline = time.monotonic() + seconds
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


class PeerClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        witness_url: str | None = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.witness_base = (witness_url or base_url).rstrip("/")
        """Where witness requests go: the node itself, when reads come from a static copy."""
        self.timeout = timeout
        self._client = client or httpx.Client(timeout=timeout, transport=_transport())

    def _get(self, path: str, limit: int) -> bytes:
        url = f"{self.base}/{path}"
        try:
            with _within(self.timeout) as deadline, self._client.stream("GET", url, headers=_IDENTITY) as resp:
                if resp.status_code == 404:
                    raise LogNotFound(f"{url} not found")
                if resp.status_code != 200:
                    raise StoreUnavailable(f"{url} answered {resp.status_code}")
                return self._read(resp, url, limit, deadline)
        except httpx.TimeoutException:
            raise StoreUnavailable(f"{url} took over {self.timeout:g}s to answer") from None
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"cannot reach {self.base}: {exc.__class__.__name__}") from None

    def _read(self, resp: httpx.Response, url: str, limit: int, deadline: float) -> bytes:
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise MalformedTile(
                f"{url} answered with Content-Encoding {encoding[:40]!r}; detente reads answers uncompressed"
            )
        body = bytearray()
        for chunk in resp.iter_raw():
            body += chunk
            if len(body) > limit:
                raise MalformedTile(f"{url} is over {limit} bytes")
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"{url} took over {self.timeout:g}s to answer")
        return bytes(body)

    def checkpoint(self) -> bytes:
        return self._get("log/checkpoint", MAX_CHECKPOINT)

    def cosignatures(self, since: int = 0) -> list[tuple[int, str, int, str]]:
        """The cosignatures the node serves for its log from size ``since`` on, as ``(size, witness,
        timestamp, line)``: shape checked here, signatures checked by the caller."""
        raw = self._get(f"log/cosignatures?since={since}", MAX_COSIGNATURES)
        try:
            rows = json.loads(raw)
            if not isinstance(rows, list):
                raise TypeError("not a list")
            out = []
            for r in rows:
                size, witness, timestamp, line = r["size"], r["witness"], r["timestamp"], r["line"]
                if not all(isinstance(v, int) and 0 <= v < 2**63 for v in (size, timestamp)):
                    raise TypeError("size and timestamp must be integers")
                if not (isinstance(witness, str) and isinstance(line, str) and len(line) < 1024):
                    raise TypeError("witness and line must be strings")
                if size >= since:  # a static copy serves them all, whatever the query says
                    out.append((size, witness, timestamp, line))
        except (ValueError, TypeError, KeyError) as exc:
            raise MalformedTile(f"{self.base}/log/cosignatures is not a list of cosignatures: {exc}") from None
        return out

    def tile(self, tile: TileID) -> bytes:
        data = self._get("log/" + tile.path(), MAX_BUNDLE if tile.is_entries else MAX_TILE)
        if not tile.is_entries and len(data) != tile.width * 32:
            raise MalformedTile(f"{tile.path()} from {self.base} is {len(data)} bytes, not {tile.width * 32}")
        return data

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)``, read from entry bundles (full where the tree has them)."""
        return [entry for _, entry in self.iter_entries(start, end)]

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """``(index, entry)`` for ``[start, end)``, fetching one bundle only when the caller has
        taken every entry of the one before (so a caller that stops at a bad entry fetches no more)."""
        if end <= start:
            return
        for n in range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1):
            width = min(TILE_WIDTH, end - n * TILE_WIDTH)
            bundle = decode_entry_bundle(self.tile(TileID(-1, n, width)), count=width)
            lo = max(start - n * TILE_WIDTH, 0)
            for i in range(lo, width):
                yield n * TILE_WIDTH + i, bundle[i]

    def fetch_nodes(self, size: int):  # type: ignore[no-untyped-def]
        """A node fetcher (see :mod:`detente.tlog.proofs`) over this peer's hash tiles at ``size``."""
        cache: dict[tuple[int, int], tuple[bytes, int]] = {}

        def get_tile(pos: tuple[int, int]) -> tuple[bytes, int]:
            if pos not in cache:
                level, index = pos
                count = size >> (8 * level)
                width = min(TILE_WIDTH, count - index * TILE_WIDTH)
                raw = self.tile(TileID(level, index, width))
                cache[pos] = (build_stored_tile([raw[i : i + 32] for i in range(0, len(raw), 32)]), width)
            return cache[pos]

        def fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
            return nodes_from_tiles(nodes, get_tile)

        return fetch

    def add_checkpoint(self, body: bytes) -> tuple[int, bytes]:
        # A witness trickling its answer must not hold a publisher thread for long: the exchange
        # is bounded in time (headers included) and size like a pull's.
        url = f"{self.witness_base}/witness/add-checkpoint"
        try:
            with (
                _within(self.timeout) as deadline,
                self._client.stream("POST", url, content=body, headers=_IDENTITY) as resp,
            ):
                try:
                    return resp.status_code, self._read(resp, url, MAX_CHECKPOINT, deadline)
                except MalformedTile as exc:
                    raise StoreUnavailable(f"witness {url}: {exc.message}") from None
        except httpx.TimeoutException:
            raise StoreUnavailable(f"witness {url} took over {self.timeout:g}s to answer") from None
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"cannot reach witness {self.witness_base}: {exc.__class__.__name__}") from None

    def close(self) -> None:
        self._client.close()
