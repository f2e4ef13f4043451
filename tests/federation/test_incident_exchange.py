"""The incident database across two real nodes: an incident filed at one node is found by search
at the other after sync (in Chinese too), classified by the other party, linked and confirmed;
a critical-infrastructure report raises an early warning; bad input writes nothing."""

from __future__ import annotations


def grid_report(incident_id: str, **over: object) -> dict:  # type: ignore[type-arg]
    return {
        "incident_id": incident_id,
        "category": "serious-ai-incident",
        "title": {
            "original": {"lang": "en", "text": "Load-forecasting model caused regional grid outage"},
            "translations": {"zh": "负荷预测模型导致区域电网停电"},
        },
        "description": {
            "original": {"lang": "en", "text": "A load-forecasting model under-predicted demand; operators shed load."}
        },
        "ai_relation": "the model's forecast drove automatic dispatch",
        "submitter": "grid regulator duty desk",
        "supporting_materials": ["https://example.org/grid/outage-report"],
        "severity": "high",
        "harm_types": ["critical-infrastructure"],
        "critical_infrastructure": True,
        "sectors": ["energy"],
        "aware_at": "2026-11-20T06:00:00Z",
        "occurred_at": "2026-11-20T04:00:00Z",
        "jurisdictions": ["EU"],
    } | over


def test_incident_filed_at_one_node_is_searched_classified_and_linked_at_the_other(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    filed = us.api("POST", "/api/v1/incidents", json={"report": grid_report("us-2026-0001")})
    assert filed.status_code == 201, filed.text
    assert filed.json()["early_warning"]["origin"] == us.origin

    def found() -> list:  # type: ignore[type-arg]
        return cn.api("GET", "/api/v1/incidents", params={"q": "电网停电"}).json()["hits"]

    wait("us's incident in cn's search", lambda: [h["incident_id"] for h in found()] == ["us-2026-0001"])
    shown = cn.api("GET", "/api/v1/incident", params={"origin": us.origin, "id": "us-2026-0001"}).json()
    assert shown["clocks"][0]["regime"] == "EU" and shown["clocks"][0]["basis"].startswith("AI Act Art. 73(3)")
    assert [s["report"]["stage"] for s in shown["stages"]] == ["initial"]

    # The early warning is a hotline thread at cn, with its own deadlines.
    wait(
        "the early warning in cn's inbox",
        lambda: any(t["type"] == "detente.dev/hotline-message/v1" for t in cn.api("GET", "/api/v1/inbox").json()),
    )

    classification = {
        "incident": {"origin": us.origin, "id": "us-2026-0001"},
        "namespace": "OECD",
        "taxonomy_version": "2024.05",
        "attributes": {"geographic_scale": "regional", "reversibility": "reversible"},
    }
    assert cn.api("POST", "/api/v1/incident/classifications", json=classification).status_code == 201
    size = cn.status()["size"]
    bad = cn.api(
        "POST",
        "/api/v1/incident/classifications",
        json=classification | {"attributes": {"geographic_scale": "galactic"}},
    )
    assert bad.status_code == 422 and "galactic" in bad.json()["detail"] and "regional" in bad.json()["hint"]
    unknown = cn.api("POST", "/api/v1/incident/classifications", json=classification | {"namespace": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["hint"].startswith("built-in taxonomies")
    assert cn.status()["size"] == size  # nothing written

    # cn files its own report of the same event: the answer suggests us's incident.
    own = grid_report(
        "cn-2026-0042",
        title={
            "original": {"lang": "zh", "text": "区域电网停电：负荷预测模型故障"},
            "translations": {"en": "Regional grid outage: load-forecasting model failure"},
        },
        jurisdictions=["CN"],
        reporter_type="cii-operator",
    )
    mine = cn.api("POST", "/api/v1/incidents", json={"report": own})
    assert mine.status_code == 201, mine.text
    suggested = [(s["origin"], s["incident_id"]) for s in mine.json()["possible_duplicates"]]
    assert suggested[0] == (us.origin, "us-2026-0001")

    link = {
        "source": {"origin": cn.origin, "id": "cn-2026-0042"},
        "target": {"origin": us.origin, "id": "us-2026-0001"},
        "relation": "same-as",
    }
    linked = cn.api("POST", "/api/v1/incident/links", json=link)
    assert linked.status_code == 201
    self_confirm = cn.api(
        "POST",
        "/api/v1/incident/links/confirm",
        json={"origin": cn.origin, "index": linked.json()["index"], "verdict": "confirm"},
    )
    assert self_confirm.status_code == 422 and "own link" in self_confirm.json()["detail"]

    def confirm_at_us() -> bool:
        resp = us.api(
            "POST",
            "/api/v1/incident/links/confirm",
            json={"origin": cn.origin, "index": linked.json()["index"], "verdict": "confirm"},
        )
        return resp.status_code == 201

    wait("us confirms cn's link once it has synced", confirm_at_us)
    wait(
        "the confirmation at cn",
        lambda: (
            [
                c["verdict"]
                for x in cn.api("GET", "/api/v1/incident", params={"origin": us.origin, "id": "us-2026-0001"}).json()[
                    "links"
                ]
                for c in x["confirmations"]
            ]
            == ["confirm"]
        ),
    )

    # Stage rules: an update needs an incident, an initial report cannot be filed twice.
    size = us.status()["size"]
    again = us.api("POST", "/api/v1/incidents", json={"report": grid_report("us-2026-0001")})
    assert (
        again.status_code == 422 and "already reported" in again.json()["detail"] and "update" in again.json()["hint"]
    )
    orphan = us.api("POST", "/api/v1/incidents", json={"report": grid_report("us-2026-9999", stage="update")})
    assert orphan.status_code == 422 and "initial" in orphan.json()["hint"]
    assert us.status()["size"] == size

    update = us.api(
        "POST", "/api/v1/incidents", json={"report": grid_report("us-2026-0001", stage="final", severity="medium")}
    )
    assert update.status_code == 201
    wg = us.api("GET", "/api/v1/working-group").json()
    assert wg["by"]["party"] == {cn.origin: 1, us.origin: 1}
    assert wg["by"]["harm_type"] == {"critical-infrastructure": 2}
    assert wg["critical_infrastructure"]["total"] == 2


def test_cli_import_is_idempotent_and_searchable_at_the_peer(make_node, wait) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    atlas = Path(__file__).resolve().parent.parent / "data" / "atlas" / "ATLAS.yaml"
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()

    def cli(node, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        return subprocess.run(
            [sys.executable, "-m", "detente", *args, "-n", str(node.directory)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "200"},
        )

    first = cli(us, "incident", "import", "atlas", str(atlas))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["imported"] == {"reports": 57, "classifications": 57}
    again = cli(us, "incident", "import", "atlas", str(atlas))
    result = json.loads(again.stdout)
    assert result["imported"] == {"reports": 0, "classifications": 0} and result["skipped"] == 114
    assert {s["reason"] for s in result["skipped_examples"]} == {"already imported"}
    missing = cli(us, "incident", "import", "atlas", "/nonexistent/ATLAS.yaml")
    assert missing.returncode != 0 and "hint:" in missing.stderr and "Traceback" not in missing.stderr

    wait(
        "the case studies at cn",
        lambda: cn.api("GET", "/api/v1/incidents", params={"party": us.origin, "limit": 1}).json()["total"] == 57,
    )
    found = cli(cn, "incident", "search", "malware", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)["total"] >= 1
    tactic = cn.api("GET", "/api/v1/incidents", params={"taxonomy": "ATLAS:tactics=AML.TA0002", "limit": 100}).json()
    assert tactic["total"] > 0 and all(h["origin"] == us.origin for h in tactic["hits"])
    wg = cli(cn, "working-group", "--json")
    assert json.loads(wg.stdout)["by"]["party"] == {us.origin: 57}


def test_stix_export_and_import_through_the_api(make_node, wait, tmp_path) -> None:
    import json

    from stix2validator import ValidationOptions, validate_instance

    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    assert us.api("POST", "/api/v1/incidents", json={"report": grid_report("us-2026-0001")}).status_code == 201
    own = grid_report("cn-2026-0002", critical_infrastructure=False)
    assert cn.api("POST", "/api/v1/incidents", json={"report": own}).status_code == 201
    wait("us's incident at cn", lambda: cn.api("GET", "/api/v1/incidents").json()["total"] == 2)
    link = {
        "source": {"origin": cn.origin, "id": "cn-2026-0002"},
        "target": {"origin": us.origin, "id": "us-2026-0001"},
        "relation": "same-as",
    }
    assert cn.api("POST", "/api/v1/incident/links", json=link).status_code == 201

    bundle = cn.api("GET", "/api/v1/incidents/stix").json()
    result = validate_instance(bundle, ValidationOptions(strict=True, disabled=["302"]))
    assert result.is_valid, [str(e) for e in result.errors]
    assert sum(o["type"] == "incident" for o in bundle["objects"]) == 2
    assert sum(o["type"] == "relationship" for o in bundle["objects"]) == 1

    # Back into cn: its own incident is already there, us's is us's to report, the link is known.
    size = cn.status()["size"]
    again = cn.api("POST", "/api/v1/incidents/stix", content=json.dumps(bundle).encode()).json()
    assert again["reports"] == 0 and again["links"] == 0
    reasons = {s["reason"] for s in again["skipped"]}
    assert {"already imported", "already linked"} <= reasons and any("its own log carries it" in r for r in reasons)
    # A bundle from another tool is filed as cn's own report.
    foreign = dict(next(o for o in bundle["objects"] if o["type"] == "incident"))
    foreign["extensions"] = {k: v for k, v in foreign["extensions"].items() if "ef765651" in k}
    foreign["id"] = "incident--2f5a1b8e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    imported = cn.api(
        "POST", "/api/v1/incidents/stix", json={"type": "bundle", "id": bundle["id"], "objects": [foreign]}
    ).json()
    assert imported["reports"] == 1, imported
    assert cn.status()["size"] > size
    bad = cn.api("POST", "/api/v1/incidents/stix", content=b"not json")
    assert bad.status_code == 400 and bad.json()["hint"]


def test_an_index_in_an_older_format_is_rebuilt_from_the_logs_on_restart(make_node, wait) -> None:
    import sqlite3

    import psycopg

    us = make_node("us")
    us.start()
    assert us.api("POST", "/api/v1/incidents", json={"report": grid_report("us-2026-0001")}).status_code == 201
    assert (
        us.api("GET", "/api/v1/incidents", params={"q": "forecasting", "harm_type": "critical-infrastructure"}).json()[
            "total"
        ]
        == 1
    )
    us.stop()
    if us.store.startswith("postgresql://"):
        url, _, schema = us.store.partition("#")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"UPDATE {schema}.inc_meta SET value = '1' WHERE key = 'format'")
            conn.execute(f"DELETE FROM {schema}.inc_docs")  # an old index lacks what the new one has
    else:
        with sqlite3.connect(us.directory / us.store) as conn:
            conn.execute("UPDATE inc_meta SET value = '1' WHERE key = 'format'")
            conn.execute("DELETE FROM inc_docs")
    us.start()
    found = us.api(
        "GET", "/api/v1/incidents", params={"q": "forecasting", "harm_type": "critical-infrastructure"}
    ).json()
    assert found["total"] == 1 and found["hits"][0]["incident_id"] == "us-2026-0001"


def test_working_group_says_what_officials_must_still_do_and_lists_critical_incidents(make_node) -> None:
    import json
    import os
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    us = make_node("us")
    us.start()
    now = datetime.now(UTC)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    cn_grid = {"jurisdictions": ["CN"], "reporter_type": "cii-operator", "severity": "high"}
    reports = [
        # China Art. 8: the summary report was due 30 days after handling ended, 5 days ago
        grid_report(
            "cn-2026-grid-dispatch-0042", **cn_grid, aware_at=ago(40), occurred_at=ago(40), handling_ended_at=ago(35)
        ),
        # ... and is due in 28 days for this one
        grid_report(
            "cn-2026-grid-dispatch-0043", **cn_grid, aware_at=ago(3), occurred_at=ago(3), handling_ended_at=ago(2)
        ),
        # filing the report meets the EU clock itself: nothing left to do
        grid_report("us-2026-substation-0007", aware_at=ago(1), occurred_at=ago(1)),
        # before the laws applied: no clock of theirs at all (not "met-late")
        grid_report(
            "us-2024-legacy-0001",
            jurisdictions=["EU", "CN", "US-CA"],
            aware_at="2024-03-01T08:00:00Z",
            occurred_at="2024-03-01T06:00:00Z",
            critical_infrastructure=False,
        ),
    ]
    for report in reports:
        filed = us.api("POST", "/api/v1/incidents", json={"report": report})
        assert filed.status_code == 201, filed.text
    legacy = us.api("GET", "/api/v1/incident", params={"origin": us.origin, "id": "us-2024-legacy-0001"}).json()
    assert legacy["clocks"] == []
    why = {r["regime"]: r for r in legacy["regimes"]}  # every regime considered, with why (#22)
    assert why["EU"]["code"] == "before-applies" and "2026-08-02" in why["EU"]["reason"]
    assert why["US-NY"]["code"] == "not-named" and not why["US-CA"]["applied"]
    eu = us.api("GET", "/api/v1/incident", params={"origin": us.origin, "id": "us-2026-substation-0007"}).json()
    assert [(c["regime"], c["state"]) for c in eu["clocks"]] == [("EU", "met")]

    def cli(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "detente", "working-group", *args, "-n", str(us.directory)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DETENTE_TOKEN": us.token, "COLUMNS": str(columns)},
        )

    as_json = cli("--json")
    assert as_json.returncode == 0, as_json.stderr
    view = json.loads(as_json.stdout)
    todo = [(c["incident_id"], c["regime"], c["name"], c["state"]) for c in view["open_clocks"]]
    assert todo == [
        ("cn-2026-grid-dispatch-0042", "CN", "final summary", "missed"),
        ("cn-2026-grid-dispatch-0043", "CN", "final summary", "open"),
    ]
    missed = view["open_clocks"][0]
    assert missed["obligation"].startswith("send the summary report") and missed["obligation"].endswith("(Art. 8)")
    assert missed["due"] == (now - timedelta(days=5)).isoformat() and missed["met_at"] is None
    critical = [h["incident_id"] for h in view["critical_infrastructure"]["latest"]]
    assert view["critical_infrastructure"]["total"] == 3 and sorted(critical) == sorted(
        ["cn-2026-grid-dispatch-0042", "cn-2026-grid-dispatch-0043", "us-2026-substation-0007"]
    )

    # every regime in the data is considered, with why it did or did not apply (issue #22)
    regimes = {r["regime"]: r for r in view["regimes"]}
    assert list(regimes) == ["EU", "EU-GPAI", "EU-NIS2", "CN", "US-CA", "US-NY", "US-CIRCIA"]
    assert regimes["EU"]["incidents"] == {"not-named": 2, "applies": 1, "before-applies": 1}
    assert "2026-08-02" in regimes["EU"]["why_not"]["before-applies"][0]  # Art. 113
    assert regimes["US-CA"]["incidents"] == {"not-named": 3, "before-applies": 1}
    circia = regimes["US-CIRCIA"]
    assert circia["status"] == "proposed" and circia["applies_from"] is None and "89 FR 23644" in circia["citation"]

    text = cli()
    assert text.returncode == 0, text.stderr
    assert "reporting regimes considered" in text.stdout and "US-CIRCIA" in text.stdout
    lines = text.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    key = "us.detente.example#cn-2026-grid-dispatch-0042"
    row = next(i for i, line in enumerate(lines) if key in line)
    assert (
        "MISSED: CN final summary" in lines[row] and f"due {missed['due'][:16].replace('T', ' ')} UTC" in lines[row + 1]
    )
    assert "what officials must still do: 2 open or missed regulatory clock(s)" in text.stdout
    assert "send the summary report" in text.stdout and "us-2024-legacy-0001" not in text.stdout
    assert "critical-infrastructure incidents: 3 (latest 3)" in text.stdout
    for incident in critical:  # each listed, its key whole on one line
        assert sum(f"us.detente.example#{incident}" in line for line in lines) >= 1, incident
