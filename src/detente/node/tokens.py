"""Operator API tokens bound to roles. A token is ``dtk_<id>_<secret>``; only the SHA-256 of the
secret is stored, so a database dump reveals no usable token. Every write through the API is
attributed to the token id that made it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from detente.errors import AuthError, Forbidden, MalformedError
from detente.store.node_protocol import NodeStore, TokenRow

__all__ = ["ROLES", "Principal", "authenticate", "issue_token"]

ROLES = ("viewer", "officer", "admin")
"""Each role may do everything the roles before it may."""


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: str
    label: str

    def require(self, role: str) -> None:
        if ROLES.index(self.role) < ROLES.index(role):
            raise Forbidden(f"token {self.token_id} has role {self.role!r}; this needs {role!r}")


def issue_token(store: NodeStore, role: str, label: str, now: int, ttl: int | None = None) -> str:
    """Create a token; return it (shown once, never stored in the clear)."""
    if role not in ROLES:
        raise MalformedError(f"unknown role {role!r}", hint=f"roles are {', '.join(ROLES)}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    store.add_token(
        TokenRow(
            token_id,
            hashlib.sha256(secret.encode()).digest(),
            role,
            label,
            now,
            now + ttl if ttl else None,
            None,
        )
    )
    return f"dtk_{token_id}_{secret}"


def authenticate(store: NodeStore, header: str | None, now: int) -> Principal:
    """Check an ``Authorization: Bearer dtk_…`` header; raise :class:`AuthError` if invalid."""
    if not header or not header.startswith("Bearer "):
        raise AuthError("this request needs an operator token")
    parts = header[len("Bearer ") :].strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "dtk":
        raise AuthError("the token is not a detente token (dtk_…)")
    row = store.get_token(parts[1])
    if row is None or not hmac.compare_digest(row.secret_hash, hashlib.sha256(parts[2].encode()).digest()):
        raise AuthError("the token is not valid")
    if row.revoked is not None:
        raise AuthError(f"token {row.token_id} was revoked", hint="ask an admin for a new token")
    if row.expires is not None and now >= row.expires:
        raise AuthError(f"token {row.token_id} has expired", hint="ask an admin for a new token")
    return Principal(row.token_id, row.role, row.label)
