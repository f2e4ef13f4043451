"""``detente init``, ``serve``, ``peer`` and ``token``: run a party node."""

from __future__ import annotations

import gc
import json
import logging
import signal
import socket
import time
from pathlib import Path

import typer
from pydantic import ValidationError

from detente._internal.validation import describe_validation_error
from detente.cli.journal import journaled
from detente.cli.serving import bind, check_listen, hold_store
from detente.crypto.keys import Ed25519Identity
from detente.errors import ConfigError, MalformedError
from detente.node.config import CONFIG_NAME, NodeConfig, load_config
from detente.node.keyfile import check_party_key_name, write_identity
from detente.node.node import Node
from detente.node.pins import check_pin
from detente.node.tilelog import TileLog
from detente.node.tokens import ROLES, issue_token
from detente.store.node_protocol import PeerRow
from detente.store.open import open_node_store, open_store

NODE = typer.Option(Path("."), "--node", "-n", help="the node's folder (holding detente.toml)")

peer_app = typer.Typer(
    help="Pin and list peers (their keys are pinned, never trusted on first use).", no_args_is_help=True
)
token_app = typer.Typer(help="Operator API tokens bound to roles (viewer, officer, admin).", no_args_is_help=True)


def _store_url(config: NodeConfig, base: Path) -> str:
    return config.store if "://" in config.store else str(base / config.store)


_INIT_HINTS = {
    "name": "--name is a short name: lower-case letters, digits, '-' or '_', at most 32, e.g. us",
    "public_url": "--public-url is http(s)://HOST[:PORT], e.g. https://us.detente.example:8441",
}


def init(
    directory: Path = typer.Argument(..., help="folder to create the node in"),
    name: str = typer.Option(..., "--name", help="short party name, e.g. us"),
    origin: str = typer.Option(..., "--origin", help="log origin = key name, e.g. us.detente.example/log"),
    listen: str = typer.Option("127.0.0.1:8441", "--listen", help="host:port to serve on"),
    store: str = typer.Option(
        "detente.db", "--store", help="SQLite path (relative to the folder) or postgresql:// URL"
    ),
    public_url: str = typer.Option("", "--public-url", help="URL others reach this node at (default http://LISTEN)"),
) -> None:
    """Create a party node: key (0600), detente.toml, the store with a signed empty log, and an
    admin token (printed once). Everything is checked before anything is written, and what a
    failed init wrote is removed again, so that the corrected command can be run as it is."""
    check_listen(listen, where="--listen")  # refused before anything is created
    check_party_key_name(origin)
    try:
        config = NodeConfig(name=name, origin=origin, listen=listen, store=store, public_url=public_url)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
        raise MalformedError(describe_validation_error(exc, "node"), hint=_INIT_HINTS.get(field)) from None
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / CONFIG_NAME
    if cfg.exists():
        raise ConfigError(f"{cfg} already exists", hint="choose another folder; init never overwrites a node")
    url = _store_url(config, directory)
    written = [] if "://" in url or Path(url).exists() else [Path(url), Path(f"{url}-wal"), Path(f"{url}-shm")]
    ident = Ed25519Identity.generate(origin)
    try:
        log_store = open_store(url, create=True)  # an unreachable store is refused before the key is written
        written.append(write_identity(ident, directory / config.key_file))  # refuses an existing key file
        TileLog.create(log_store, ident)
        state = open_node_store(url, create=True)
        token = issue_token(state, "admin", "created by detente init", int(time.time()))
        with journaled(config, directory, "detente init", origin) as detail:
            detail.update(token_id=token.split("_")[1], role="admin")
        written.append(cfg)
        cfg.write_text(config.to_toml(), encoding="utf-8")
    except BaseException:
        for path in written:  # only what this init created: a new database, the key, the configuration
            path.unlink(missing_ok=True)
        raise
    typer.echo(
        json.dumps(
            {
                "node": str(directory),
                "origin": origin,
                "url": config.url,
                "vkey": str(ident.vkey()),
                "cosigner_vkey": str(ident.cosigner_vkey()),
                "admin_token": token,
            },
            indent=2,
        )
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(node_dir: Path = NODE, log_level: str = typer.Option("info", "--log-level")) -> None:
    """Run the node: public log and witness endpoints, operator API, sync with peers; prints the
    console's URL. A port in use, or a store another serve holds, is refused before the node
    starts (nothing is pushed to peers)."""
    config, base = load_config(node_dir)
    where = str(node_dir / CONFIG_NAME)
    host, port = check_listen(config.listen, where=f"listen in {where}")
    with hold_store(_store_url(config, base)), bind(host, port, where=where) as sock:
        _serve(config, base, sock, log_level)


def _serve(config: NodeConfig, base: Path, sock: socket.socket, log_level: str) -> None:
    import uvicorn

    from detente.api.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    node = Node(config, base)
    app = create_app(node)
    typer.echo(f"detente: serving {config.origin} at {config.url}", err=True)
    typer.echo(f"detente: console {config.url}/console/ (sign in with a token: detente token create)", err=True)
    node.start()
    # what startup made (modules, schemas, the app: ~100,000 objects) lives as long as the process; frozen,
    # a full collection no longer walks it (35-64 ms each, once every ~30 inbox answers: the inbox's p99)
    gc.freeze()
    # uvicorn catches SIGTERM, shuts the server down, then raises the signal again with the handler
    # that was there before it started: with the default one the process died there and the node was
    # never stopped (threads, worker processes and stores left as they were). This one ends the run
    # through the ``finally`` below.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=3,  # the console's event streams do not hold a stop for long
            limit_concurrency=2048,  # past this, new connections get 503 rather than exhausting descriptors
        )
    )
    try:
        server.run(sockets=[sock])  # the socket bound above: nothing can take the port in between
    finally:
        node.stop()


@peer_app.command("add")
def peer_add(
    name: str = typer.Argument(..., help="short name, e.g. cn"),
    url: str = typer.Argument(..., help="the peer node's URL"),
    vkey: str = typer.Option(..., "--vkey", help="the peer's log key, obtained out of band"),
    cosigner_vkey: str | None = typer.Option(None, "--cosigner-vkey", help="the peer's witness key"),
    read_url: str | None = typer.Option(
        None,
        "--read-url",
        help="where to read the peer's log if not from its node: its published static copy (its public_read_url)",
    ),
    node_dir: Path = NODE,
) -> None:
    """Pin a peer's keys. Refuses to replace an existing peer's key silently."""
    config, base = load_config(node_dir)
    state = open_node_store(_store_url(config, base))
    row = PeerRow(name, url, vkey, cosigner_vkey, int(time.time()), read_url)
    with journaled(config, base, "detente peer add", name) as detail:
        detail.update(url=url, vkey=vkey, cosigner_vkey=cosigner_vkey, read_url=read_url)
        check_pin(row, config.name, config.origin, state.peers())  # refused before anything is stored
        state.add_peer(row)
    typer.echo(f"pinned {name}: {vkey}")


@peer_app.command("list")
def peer_list(node_dir: Path = NODE) -> None:
    config, base = load_config(node_dir)
    for row in open_node_store(_store_url(config, base)).peers():
        typer.echo(json.dumps(row.__dict__))


@peer_app.command("remove")
def peer_remove(name: str = typer.Argument(...), node_dir: Path = NODE) -> None:
    config, base = load_config(node_dir)
    with journaled(config, base, "detente peer remove", name):
        if not open_node_store(_store_url(config, base)).remove_peer(name):
            raise ConfigError(f"no peer {name!r}", hint="list the peers with: detente peer list")
    typer.echo(f"removed {name}")


_TTL_MAX = 10 * 365 * 86_400


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", help=f"one of {', '.join(ROLES)}"),
    label: str = typer.Option("", "--label", help="who or what holds it"),
    ttl: int | None = typer.Option(
        None, "--ttl", min=1, max=_TTL_MAX, help="seconds until it expires (at most ten years; default: never)"
    ),
    node_dir: Path = NODE,
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    config, base = load_config(node_dir)
    with journaled(config, base, "detente token create", "-") as detail:
        detail.update(role=role, label=label, ttl=ttl)
        token = issue_token(open_node_store(_store_url(config, base)), role, label, int(time.time()), ttl)
        detail["token_id"] = token.split("_")[1]
    typer.echo(token)


@token_app.command("list")
def token_list(node_dir: Path = NODE) -> None:
    config, base = load_config(node_dir)
    for row in open_node_store(_store_url(config, base)).list_tokens():
        typer.echo(
            json.dumps(
                {
                    "id": row.token_id,
                    "role": row.role,
                    "label": row.label,
                    "created": row.created,
                    "expires": row.expires,
                    "revoked": row.revoked,
                }
            )
        )


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(...), node_dir: Path = NODE) -> None:
    config, base = load_config(node_dir)
    with journaled(config, base, "detente token revoke", token_id):
        if not open_node_store(_store_url(config, base)).revoke_token(token_id, int(time.time())):
            raise ConfigError(f"no token {token_id!r}", hint="list the tokens with: detente token list")
    typer.echo(f"revoked {token_id}")
