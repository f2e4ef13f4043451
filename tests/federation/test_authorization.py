"""The authorization matrix, for every operator route and every role, against a real node.

The roles come from docs/node.md (the operators' table says which role each route needs), so the
documentation and the behaviour are checked against each other: with no token, a malformed token
or a revoked one, every route answers 401; with a role below the documented one, 403; with the
documented role or above, neither (the request may still be refused for its body, with a 4xx
problem, never a 5xx). Every route the app serves under /api/v1 must be in the table.
"""

from __future__ import annotations

import re
from pathlib import Path

ROLES = ("viewer", "officer", "admin")
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "node.md"
# routes that take their token another way (documented with it) are listed here with why
QUERY_TOKEN = {"/api/v1/events"}  # EventSource cannot send headers: ?token= (docs/console.md)


def documented() -> dict[tuple[str, str], str]:
    rows = {}
    for method, path, role in re.findall(r"^\| `(GET|POST|DELETE|PUT) (/api/v1/[^`?]*)[^`]*` \| (\w+)", DOCS.read_text(), re.M):
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

    spec = node.api("GET", "/openapi.json").json()
    served = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in ops
    }
    table = documented()
    undocumented = sorted(served - set(table))
    assert not undocumented, f"routes without a documented role in docs/node.md: {undocumented}"

    checked = 0
    for method, path in sorted(served):
        if path in QUERY_TOKEN:
            continue
        url = concrete(path)
        needed = ROLES.index(table[(method, path)])
        for bad in (None, "dtk_nope", "Bearer-less", revoked):
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
