"""Pinning a peer: the checks a pin passes before it is stored, so that a bad pin can never be
kept, and a bad row already kept can never stop the node from starting.

A pin names a peer's log key (a type 0x01 Ed25519 signed-note key: it verifies the peer's
checkpoints and records), optionally its witness key (type 0x04, cosignature/v1: it verifies the
cosignatures the peer returns on our checkpoints), and the URL its node answers on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from detente._internal.urls import url_problem
from detente.crypto.keys import SIG_COSIGNATURE_V1, SIG_ED25519, VerifierKey
from detente.errors import DetenteError, PinRefused
from detente.store.node_protocol import PeerRow

__all__ = ["check_pin"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _key(text: str, sig_type: int, what: str) -> VerifierKey:
    try:
        vk = VerifierKey.parse(text)
    except DetenteError as exc:
        raise PinRefused(f"{what}: {exc.message}", hint="copy the vkey exactly as the peer printed it") from None
    if vk.sig_type != sig_type:
        want = "a log key (type 0x01)" if sig_type == SIG_ED25519 else "a cosigner key (type 0x04)"
        raise PinRefused(
            f"{what} is a type 0x{vk.sig_type:02x} key, not {want}",
            hint="--vkey takes the peer's log vkey, --cosigner-vkey its cosigner vkey (detente key show prints both)",
        )
    return vk


def _http_url(url: str, what: str, hint: str) -> None:
    """Refuse a URL no sync can use (:func:`url_problem`) at pin time."""
    problem = url_problem(url)
    if problem is not None:
        raise PinRefused(f"{what} {url[:80]!r} {problem}", hint=hint)


def check_pin(row: PeerRow, own_name: str, own_origin: str, pinned: Iterable[PeerRow]) -> VerifierKey:
    """Refuse a pin that could hurt (raises :class:`PinRefused`);
    return the peer's log key. ``pinned`` are the rows already stored (``row`` itself excluded)."""
    if not _NAME.match(row.name):
        raise PinRefused(
            f"peer name {row.name[:40]!r} is not a short name", hint="use lower-case letters, digits, '-' or '_'"
        )
    _http_url(row.url, "peer URL", "the base URL the peer's node answers on, e.g. https://cn.example:8441")
    if row.read_url is not None:
        _http_url(
            row.read_url,
            "read URL",
            "the base URL of the peer's published log (detente publish), e.g. https://cdn.cn.example",
        )
    log_key = _key(row.vkey, SIG_ED25519, "the peer's log key")
    if row.cosigner_vkey:
        _key(row.cosigner_vkey, SIG_COSIGNATURE_V1, "the peer's cosigner key")
    if row.name == own_name or log_key.name == own_origin:
        raise PinRefused(
            f"{row.name} ({log_key.name}) is this node itself",
            hint="a node does not pin its own log; pin the other parties' nodes",
        )
    for other in pinned:
        if other.name == row.name:
            continue  # the store refuses a second pin of one name, with its own hint
        try:
            other_origin = VerifierKey.parse(other.vkey).name
        except DetenteError:
            continue
        if other_origin == log_key.name:
            raise PinRefused(
                f"{log_key.name} is already pinned as {other.name!r}",
                hint=f"one pin per log: detente peer remove {other.name} first to pin it anew",
            )
    return log_key
