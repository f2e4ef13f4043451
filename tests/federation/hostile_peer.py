"""A hostile peer for the tests: a small HTTP server on loopback that serves a real detente log
(tlog-tiles) signed with its own key, and can be told to serve crafted checkpoints, padded
notes, forks and junk bundles instead, counting every bundle it is asked for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner, NoteSignature, parse_note
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore
from detente.tlog.checkpoint import Checkpoint, sign_checkpoint
from detente.tlog.tiles import parse_tile_path


def padded(note: bytes, lines: int = 100, width: int = 440) -> bytes:
    """``note`` with signature lines of keys nobody knows appended, up to the 100 lines a note may
    carry (what an outsider may add to anyone's checkpoint)."""
    parsed = parse_note(note)
    room = max(0, lines - len(parsed.signatures))
    junk = [NoteSignature(f"pad{i}.example", i, bytes([i % 256]) * width) for i in range(room)]
    return parsed.with_signatures(junk).to_bytes()


def forged_checkpoint(identity: Ed25519Identity, size: int, root: bytes) -> bytes:
    """A checkpoint validly signed by ``identity`` for any size and root it likes."""
    return sign_checkpoint(Checkpoint(identity.name, size, root), [Ed25519NoteSigner(identity)]).to_bytes()


class HostilePeer:
    def __init__(self, directory: Path, origin: str = "cn.detente.example/log") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.identity = Ed25519Identity.generate(origin)
        self.log = TileLog.create(SQLiteStore(directory / "hostile.db", create=True), self.identity)
        self.checkpoint: bytes | None = None
        """Served at /log/checkpoint instead of the log's own (None: the real one)."""
        self.bundle: Callable[[str], bytes] | None = None
        """Serves every entry bundle instead of the log (None: the real ones)."""
        self.bundles_served = 0
        self.bytes_served = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return self.identity.name

    def vkey(self) -> str:
        return str(self.identity.vkey())

    def cosigner_vkey(self) -> str:
        return str(self.identity.cosigner_vkey())

    def append(self, record_type: str, body: dict[str, object], to: tuple[str, ...] = (), n: int = 1) -> None:
        """Log ``n`` records validly signed by this peer, whatever their bodies say."""
        from datetime import UTC, datetime

        entries = [
            seal_record(
                Record(type=record_type, party=self.origin, issued=datetime.now(UTC), to=to, body=body),
                self.identity,
            )
            for _ in range(n)
        ]
        self.log.append(entries)

    def signed_checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                peer.bytes_served += len(body)

            def do_GET(self) -> None:
                path = self.path.removeprefix("/log/")
                try:
                    if path == "checkpoint":
                        self._send(200, peer.checkpoint or peer.log.signed_checkpoint())
                        return
                    tid = parse_tile_path(path)
                    if tid.is_entries:
                        peer.bundles_served += 1
                        if peer.bundle is not None:
                            self._send(200, peer.bundle(path))
                            return
                    self._send(200, peer.log.tile(tid.level, tid.index, tid.width))
                except Exception:
                    self._send(404, b"not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._send(404, b"this peer witnesses nobody")

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
