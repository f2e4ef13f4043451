"""The authorization matrix, for every operator route and every role, against a real node.

The roles come from docs/node.md (the operators' table says which role each route needs), so the
documentation and the behaviour are checked against each other: with no token, a malformed token,
a real token id with a wrong secret, an expired token or a revoked one, every route answers 401; with a role below the documented one, 403; with the
documented role or above, neither (the request may still be refused for its body, with a 4xx
problem, never a 5xx). Every route the app serves under /api/v1 must be in the table.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

ROLES = ("viewer", "officer", "admin")
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "node.md"
# routes that take their token another way (documented with it) are listed here with why
QUERY_TOKEN = {"/api/v1/events"}  # EventSource cannot send headers: ?token= (docs/console.md)


def documented() -> dict[tuple[str, str], str]:
    rows = {}
    for method, path, role in re.findall(
        r"^\| `(GET|POST|DELETE|PUT) (/api/v1/[^`?]*)[^`]*` \| (\w+)", DOCS.read_text(), re.M
    ):
        rows[(method, path)] = role
    return rows


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "0" if "index" in m.group(0) else "x", path)


def test_every_route_and_role(make_node) -> None:
    node = make_node("us").start()
    tokens = {"viewer": "", "officer": "", "admin": node.token}
    for role in ("viewer", "officer"):
        made = node.api("POST", "/api/v1/tokens", json={"role": role, "label": f"matrix {role}"})
        assert made.status_code == 201, made.text
        tokens[role] = made.json()["token"]
    revoked = node.api("POST", "/api/v1/tokens", json={"role": "admin", "label": "to revoke"}).json()["token"]
    assert node.api("DELETE", f"/api/v1/tokens/{revoked.split('_')[1]}").status_code == 200
    expiring = node.api("POST", "/api/v1/tokens", json={"role": "admin", "label": "to expire", "ttl_seconds": 1})
    expired = expiring.json()["token"]
    wrong_secret = f"dtk_{node.token.split('_')[1]}_{'x' * 32}"  # the admin's real id, another secret
    deadline = time.time() + 2.1  # whole seconds: 1 s of validity ends within 2 s of issuing

    spec = node.api("GET", "/openapi.json").json()
    served = {
        (method.upper(), path) for path, ops in spec["paths"].items() if path.startswith("/api/v1/") for method in ops
    }
    table = documented()
    undocumented = sorted(served - set(table))
    assert not undocumented, f"routes without a documented role in docs/node.md: {undocumented}"

    time.sleep(max(0.0, deadline - time.time()))
    checked = 0
    for method, path in sorted(served):
        if path in QUERY_TOKEN:
            continue
        url = concrete(path)
        needed = ROLES.index(table[(method, path)])
        for bad in (None, "dtk_nope", "Bearer-less", revoked, expired, wrong_secret):
            headers = {} if bad is None else {"Authorization": f"Bearer {bad}" if bad.startswith("dtk") else bad}
            resp = node.api(method, url, token="-", headers=headers) if bad else _bare(node, method, url)
            assert resp.status_code == 401, f"{method} {path} with {bad!r}: {resp.status_code} {resp.text[:200]}"
            assert resp.headers["content-type"].startswith("application/problem+json")
        for i, role in enumerate(ROLES):
            resp = node.api(method, url, token=tokens[role], json={} if method in ("POST", "PUT") else None)
            if i < needed:
                assert resp.status_code == 403, f"{method} {path} as {role}: {resp.status_code} {resp.text[:200]}"
                assert resp.json()["code"] == "forbidden"
            else:
                assert resp.status_code not in (401, 403), f"{method} {path} as {role}: {resp.status_code}"
                assert resp.status_code < 500, f"{method} {path} as {role}: {resp.status_code} {resp.text[:300]}"
            checked += 1
    assert checked >= 3 * 60


def _bare(node, method: str, url: str):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.request(method, f"{node.url}{url}", timeout=30)


ROUTE_CLASSES = {  # one route per role it needs, with a request the role may make
    "viewer": ("GET", "/api/v1/status", None),
    "officer": ("POST", "/api/v1/records", {"type": "detente.dev/statement/v1", "body": {"text": "x"}}),
    "admin": ("POST", "/api/v1/tokens", {"role": "viewer", "label": "made by the class test"}),
}


@pytest.mark.parametrize("role", ROLES)
def test_a_wrong_secret_an_expired_and_a_revoked_token_of_each_role(make_node, role: str) -> None:
    """A token of exactly the role the route needs: accepted while valid; refused (401, saying
    why) with its real id but another secret, once expired, and once revoked."""
    node = make_node("us").start()
    method, url, body = ROUTE_CLASSES[role]

    def made(**extra: object) -> str:
        resp = node.api("POST", "/api/v1/tokens", json={"role": role, "label": f"class {role}", **extra})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    # The short-lived token is not used while valid: on a loaded machine a second can pass before
    # the first request is answered. A token with an expiry an hour away shows expiring tokens work.
    issued = time.time()
    expiring, to_revoke, lasting = made(ttl_seconds=1), made(), made(ttl_seconds=3600)
    for token in (lasting, to_revoke):
        ok = node.api(method, url, token=token, json=body)
        assert ok.status_code in (200, 201), (role, ok.status_code, ok.text[:200])
    _, token_id, secret = to_revoke.split("_", 2)
    for other in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret[:-1], secret + "x", ""):
        wrong = node.api(method, url, token=f"dtk_{token_id}_{other}", json=body)
        assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"], (other, wrong.text[:200])
    assert node.api("DELETE", f"/api/v1/tokens/{token_id}").status_code == 200
    revoked = node.api(method, url, token=to_revoke, json=body)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"], revoked.text[:200]
    time.sleep(max(0.0, issued + 2.1 - time.time()))
    expired = node.api(method, url, token=expiring, json=body)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"], expired.text[:200]
