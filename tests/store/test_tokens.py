"""Operator tokens (``detente.node.tokens``) against a real SQLite node store, in-process: issuing,
authenticating, roles, expiry and revocation, and every malformed header. The same rules are
checked over HTTP on both drivers by tests/federation/test_authorization.py; this file is the fast
one the mutation run (scripts/mutation) uses."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from detente.errors import AuthError, Forbidden, MalformedError
from detente.node.tokens import ROLES, Principal, authenticate, issue_token
from detente.store.node_protocol import TokenRow
from detente.store.sqlite_node import SQLiteNodeStore

NOW = 1_800_000_007  # low bits set: an OR or XOR in place of + would show


@pytest.fixture
def store(tmp_path: Path) -> SQLiteNodeStore:
    return SQLiteNodeStore(tmp_path / "node.db", create=True)


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def test_an_issued_token_authenticates_with_its_role_and_label(store: SQLiteNodeStore) -> None:
    token = issue_token(store, "officer", "desk 1", NOW)
    prefix, token_id, secret = token.split("_", 2)
    assert prefix == "dtk" and len(token_id) == 12 and len(secret) == 32  # 6 and 24 random bytes
    assert authenticate(store, _bearer(token), NOW) == Principal(token_id, "officer", "desk 1")
    assert authenticate(store, f"Bearer   {token}  ", NOW).token_id == token_id  # surrounding spaces
    row = store.get_token(token_id)
    assert row is not None and row.secret_hash == hashlib.sha256(secret.encode()).digest()
    assert secret.encode() not in row.secret_hash and row.created == NOW and row.expires is None
    assert row.revoked is None and row.role == "officer" and row.label == "desk 1"
    principal = authenticate(store, _bearer(token), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.role = "admin"  # type: ignore[misc]


def test_a_secret_may_hold_underscores(store: SQLiteNodeStore) -> None:
    """token_urlsafe secrets can contain ``_``: only the first two underscores separate."""
    store.add_token(TokenRow("abc123", hashlib.sha256(b"se_cr_et").digest(), "viewer", "", NOW, None, None))
    assert authenticate(store, _bearer("dtk_abc123_se_cr_et"), NOW).token_id == "abc123"
    with pytest.raises(AuthError, match="not valid"):
        authenticate(store, _bearer("dtk_abc123_se_cr"), NOW)


def test_tokens_are_unique(store: SQLiteNodeStore) -> None:
    tokens = {issue_token(store, "viewer", "", NOW) for _ in range(20)}
    assert len({t.split("_")[1] for t in tokens}) == 20 and len({t.split("_", 2)[2] for t in tokens}) == 20


def test_an_unknown_role_is_refused(store: SQLiteNodeStore) -> None:
    with pytest.raises(MalformedError, match="unknown role") as err:
        issue_token(store, "root", "", NOW)
    assert err.value.hint and "viewer" in err.value.hint
    assert store.list_tokens() == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "needs an operator token"),
        ("", "needs an operator token"),
        ("dtk_a_b", "needs an operator token"),
        ("bearer dtk_a_b", "needs an operator token"),
        ("Basic dtk_a_b", "needs an operator token"),
        ("Bearer ", "not a detente token"),
        ("Bearer dtk", "not a detente token"),
        ("Bearer dtk_onlyid", "not a detente token"),
        ("Bearer xtk_a_b", "not a detente token"),  # sorts after dtk
        ("Bearer atk_a_b", "not a detente token"),  # sorts before
        ("Bearer dtk_nosuchid_secret", "not valid"),
    ],
)
def test_malformed_headers_are_refused(store: SQLiteNodeStore, header: str | None, message: str) -> None:
    issue_token(store, "admin", "", NOW)
    with pytest.raises(AuthError, match=message) as err:
        authenticate(store, header, NOW)
    assert not isinstance(err.value, Forbidden)


def test_a_real_id_with_a_wrong_secret_is_refused(store: SQLiteNodeStore) -> None:
    token = issue_token(store, "admin", "", NOW)
    _, token_id, secret = token.split("_", 2)
    for other in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret[:-1], secret + "x", "", "_" + secret):
        with pytest.raises(AuthError, match="not valid"):
            authenticate(store, _bearer(f"dtk_{token_id}_{other}"), NOW)
    with pytest.raises(AuthError, match="not valid"):
        authenticate(store, _bearer(f"dtk_{'0' * 12}_{secret}"), NOW)  # the secret under another id


def test_expiry_is_exclusive_of_the_last_second(store: SQLiteNodeStore) -> None:
    token = issue_token(store, "viewer", "", NOW, ttl=60)
    row = store.get_token(token.split("_")[1])
    assert row is not None and row.expires == NOW + 60
    assert authenticate(store, _bearer(token), NOW + 59).role == "viewer"
    for later in (NOW + 60, NOW + 61, NOW + 10**6):
        with pytest.raises(AuthError, match="has expired") as err:
            authenticate(store, _bearer(token), later)
        assert err.value.hint


def test_no_ttl_never_expires(store: SQLiteNodeStore) -> None:
    token = issue_token(store, "viewer", "", NOW, ttl=None)
    assert authenticate(store, _bearer(token), NOW + 10**9).role == "viewer"


def test_a_revoked_token_is_refused(store: SQLiteNodeStore) -> None:
    token = issue_token(store, "admin", "", NOW)
    token_id = token.split("_")[1]
    assert store.revoke_token(token_id, NOW + 5)
    for at in (NOW, NOW + 5, NOW + 6):  # revocation is immediate, whatever the clock says
        with pytest.raises(AuthError, match="was revoked") as err:
            authenticate(store, _bearer(token), at)
        assert err.value.hint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_roles_before_it_may(store: SQLiteNodeStore, role: str) -> None:
    principal = authenticate(store, _bearer(issue_token(store, role, "", NOW)), NOW)
    for needed in ROLES:
        if ROLES.index(needed) <= ROLES.index(role):
            principal.require(needed)
        else:
            with pytest.raises(Forbidden, match=f"role {role!r}; this needs {needed!r}"):
                principal.require(needed)
