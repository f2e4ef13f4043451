"""The public side of a log as static files (``detente publish``; ``docs/deploy.md``): the
checkpoint, hash tiles and entry bundles at exactly their C2SP tlog-tiles paths under ``log/``
(the paths a node serves), plus ``log/cosignatures`` (the witnesses' cosignatures, JSON), so that
any web server, CDN or object store can serve the reads of a log, and peers, witnesses and
auditors read it there (``read_url``), verifying everything as they do from a node.

Writes are atomic (a temporary file renamed into place) and incremental: a full tile or bundle is
written once and never again; a partial one is written at its own width's path (also immutable);
the checkpoint is written last, so a reader never sees a checkpoint whose tiles are missing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from detente.crypto.note import parse_note
from detente.node.tilelog import TileLog
from detente.store.node_protocol import TimeRow
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.tiles import TILE_WIDTH, TileID, tiles_for_size

if TYPE_CHECKING:
    from detente.node.publisher import Publisher

__all__ = ["Published", "StaticPublisher", "nginx_conf", "static_copy"]


@dataclass(frozen=True)
class Published:
    size: int
    written: int
    kept: int


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StaticPublisher:
    def __init__(
        self,
        log: TileLog,
        cosigned: Callable[[], bytes],
        cosignatures: Callable[[], list[TimeRow]],
        folder: Path,
    ) -> None:
        self.log = log
        self.cosigned = cosigned
        self.cosignatures = cosignatures
        self.folder = folder
        self._done: dict[int, int] = {}
        """Per level (-1: entry bundles), how many full tiles are known written."""

    def run_once(self) -> Published:
        """Publish the log as it stands: new tiles, the cosignatures, then the checkpoint."""
        note = self.cosigned()
        size = Checkpoint.parse(parse_note(note).text).size
        written = kept = 0
        root = self.folder / "log"
        tiles = [*tiles_for_size(size), *_bundles(size)]
        for tid in tiles:
            if tid.is_full and tid.index < self._done.get(tid.level, 0):
                kept += 1
                continue
            path = root / tid.path()
            if path.exists():
                kept += 1
            else:
                _write(path, self.log.tile(tid.level, tid.index, tid.width))
                written += 1
        for tid in tiles:
            if tid.is_full:
                self._done[tid.level] = max(self._done.get(tid.level, 0), tid.index + 1)
        rows = [{"size": r.size, "witness": r.source, "timestamp": r.at, "line": r.line} for r in self.cosignatures()]
        _write(root / "cosignatures", json.dumps(rows).encode())
        _write(root / "checkpoint", note)
        return Published(size, written, kept)


def static_copy(publisher: Publisher, folder: Path) -> StaticPublisher:
    """The static copy of a node's own log, with the cosignatures its publisher collected."""
    return StaticPublisher(
        publisher.log,
        publisher.cosigned_checkpoint,
        lambda: publisher.timebook.rows(publisher.log.origin),
        folder,
    )


def _bundles(size: int) -> list[TileID]:
    out = [TileID(-1, n) for n in range(size // TILE_WIDTH)]
    if size % TILE_WIDTH:
        out.append(TileID(-1, size // TILE_WIDTH, size % TILE_WIDTH))
    return out


def nginx_conf(folder: Path, listen: str, prefix: Path, user: str = "") -> str:
    """A standalone nginx configuration serving ``folder`` on ``listen`` with the caching the paths
    allow: full tiles and bundles immutable for a year, partial ones and the checkpoint briefly.
    In production, copy the ``server`` block into the site's configuration, behind TLS."""
    root = folder.resolve()
    return f"""# detente publish --nginx-conf: serves a published log ({root})
# standalone: nginx -c THIS_FILE -p {prefix}
daemon off;
{f"user {user};" if user else "# user: nginx's default (the folder must be readable by it)"}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    default_type application/octet-stream;
    server {{
        listen {listen};
        root {root};
        location = /log/checkpoint {{
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "no-store" always;
        }}
        location = /log/cosignatures {{
            default_type application/json;
            add_header Cache-Control "no-store" always;
        }}
        location ~ ^/log/tile/.*\\.p/[0-9]+$ {{
            add_header Cache-Control "public, max-age=60" always;
        }}
        location /log/tile/ {{
            add_header Cache-Control "public, max-age=31536000, immutable" always;
        }}
        location / {{ return 404; }}
    }}
}}
"""
