"""``detente publish``: write a node's log as static files a web server, CDN or object store serves
(``docs/deploy.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from detente.cli.args import check_output_dir, check_output_path, write_output
from detente.cli.notices import NODE
from detente.crypto.note import parse_note
from detente.errors import ConfigError
from detente.node.config import load_config
from detente.node.keyfile import read_identity
from detente.node.keyring import KeyRing
from detente.node.static_publish import StaticPublisher, nginx_conf
from detente.node.tilelog import TileLog
from detente.node.timebook import TimeBook
from detente.store.open import open_node_store, open_store

__all__ = ["publish"]


def publish(
    out: Path | None = typer.Option(None, "--out", "-o", help="folder to write to (default: publish_dir)"),
    nginx: Path | None = typer.Option(
        None, "--nginx-conf", help="also write an nginx configuration serving the folder, with its caching headers"
    ),
    listen: str = typer.Option("127.0.0.1:8080", "--listen", help="host:port for the nginx configuration"),
    nginx_user: str = typer.Option("", "--nginx-user", help="the user nginx's workers run as (default: nginx's)"),
    node_dir: Path = NODE,
) -> None:
    """Write this party's log as static files at their C2SP tlog-tiles paths (under log/): new and
    changed files only, atomically, the checkpoint last. Safe while the node runs."""
    config, base = load_config(node_dir)
    folder = out or (base / config.publish_dir if config.publish_dir else None)
    if folder is None:
        raise ConfigError("no folder to publish to", hint="pass --out DIR, or set publish_dir in detente.toml")
    check_output_dir(folder, "--out" if out else "publish_dir")  # refused before anything is published
    if nginx is not None:
        check_output_path(nginx, "--nginx-conf")
    store_url = config.store if "://" in config.store else str(base / config.store)
    identity = read_identity(base / config.key_file)
    state = open_node_store(store_url)
    history = KeyRing(state).history(identity.name, str(identity.vkey()))
    log = TileLog(open_store(store_url), identity.name, history.keys)
    book = TimeBook(state)

    def cosigned() -> bytes:
        saved = state.load_cosigned(identity.name)  # with its witnesses' cosignatures, if they match
        own = log.signed_checkpoint()
        return saved if saved and parse_note(saved).text == parse_note(own).text else own

    done = StaticPublisher(log, cosigned, lambda: book.rows(identity.name), folder).run_once()
    result: dict[str, object] = {"folder": str(folder), "size": done.size, "written": done.written, "kept": done.kept}
    if nginx is not None:
        prefix = nginx.parent.resolve()
        write_output(nginx, nginx_conf(folder, listen, prefix, nginx_user), "--nginx-conf")
        result["nginx_conf"] = str(nginx)
    typer.echo(json.dumps(result))
