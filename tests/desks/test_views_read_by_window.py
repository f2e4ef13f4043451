"""The export-control disclosures and the quarterly report read only the records they need from a
real node's store (SQLite): by type, by the body's topic and by time window, never every record
of every log. ``rows_read`` is the store's own count of the record rows its reads returned; the
records of other types and other quarters laid around the ones a view needs must not be read, and
each view must say what it said when it read every record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from detente.exportctl.records import ViolationNarrative
from detente.node.config import load_config
from detente.node.desk import well_formed
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.timebook import TimeBook
from detente.protocol.threads import evaluate
from detente.records.record import Record
from detente.records.text import BilingualText, LangText
from detente.report.quarter import quarterly_figures
from detente.store.node_protocol import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CN = "cn.example/log"
HOTLINE = "detente.dev/hotline-message/v1"
VIOLATION = "inadvertent-export-control-violation"


def _text(s: str) -> BilingualText:
    return BilingualText(original=LangText(lang="en", text=s), translations={})


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", "us.example/log", tmp_path_factory.mktemp("views") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base, clock=lambda: NOW.timestamp())
    cn = LocalNode("cn", CN, tmp_path_factory.mktemp("views") / "cn").init()  # pinned, never answers
    node.syncer.follow(PeerRow(name="cn", url="http://127.0.0.1:9", vkey=cn.vkey, cosigner_vkey=None, added=0))
    me = node.signer.identity.name

    def hotline(issued: datetime, topic: str) -> Record:
        body = {"priority": "routine", "topic": topic}
        return Record(type=HOTLINE, party=me, issued=issued, to=(CN,), body=body, text=_text("x"))

    def statement(issued: datetime, n: int) -> Record:
        return Record(type="detente.dev/statement/v1", party=me, issued=issued, body={"n": n, "text": "x" * 200})

    q3, q4 = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 5, tzinfo=UTC)
    filler = [statement(q3 + timedelta(minutes=i), i) for i in range(300)]  # another quarter, another type
    filler += [hotline(q3 + timedelta(minutes=i), "urgent-concern") for i in range(60)]  # another topic
    filler += [hotline(q4 + timedelta(minutes=i), "urgent-concern") for i in range(20)]  # in Q4: the report's
    filler += [statement(q4 + timedelta(hours=1, minutes=i), i) for i in range(10)]
    node.writer.append_many(filler)
    first = node.exportctl.disclose((CN,), _text("two boards shipped without a licence"))["index"]
    node.exportctl.disclose((CN,), _text("a second shipment"))
    node.exportctl.narrate(
        first,
        ViolationNarrative(
            discovered_at=NOW - timedelta(days=2),
            items=("4A090.a",),
            account=_text("a reseller re-exported two boards"),
            corrective_actions=_text("shipment recalled"),
        ),
    )
    node.records.catch_up()
    yield node
    node.stop()


def test_disclosures_read_the_violation_notices_and_their_replies_only(node: Node) -> None:
    before = node.state.rows_read
    total, page = node.exportctl.disclosures()
    read = node.state.rows_read - before
    assert total == 2 and [d["index"] for d in page] == [391, 390]  # newest first
    assert page[1]["narrative"] == {"index": 392, "issued": NOW.isoformat()}
    assert page[0]["narrative"] is None and page[0]["narrative_due"] == (NOW + timedelta(days=180)).isoformat()
    assert read == 3  # the two notices and the narrative: none of the 80 other hotline messages, no statement

    me = node.signer.identity.name  # what it said when it evaluated every protocol record
    threads = evaluate(well_formed(node.records.protocol()), node.agreement, NOW, me).threads
    every = sorted((t.subject.index for t in threads if t.subject.record.body.get("topic") == VIOLATION), reverse=True)
    assert every == [d["index"] for d in page]

    before = node.state.rows_read
    total, page = node.exportctl.disclosures(limit=1, offset=1)
    assert total == 2 and [d["index"] for d in page] == [390] and page[0]["narrative"] is not None
    assert node.state.rows_read - before == 2  # both notices counted in the store: only the page and its reply read


def test_the_quarterly_report_reads_its_quarter_not_every_record(node: Node) -> None:
    desk = node.reports
    before = node.state.rows_read
    figures = desk.figures_model("2026Q4")
    read = node.state.rows_read - before
    in_q4 = 20 + 10 + 3  # the Q4 hotline messages and statements, the two disclosures and the narrative
    assert read == in_q4 + 1  # the narrative again, as a reply: none of the 360 records of Q3

    kwargs = {
        "verification": desk.verification(),
        "now": NOW,
        "times": TimeBook(node.state).times(node.agreement.time_rule()),
    }
    me = node.signer.identity.name
    every = quarterly_figures(well_formed(node.records.all()), node.agreement, me, "2026Q4", **kwargs)
    assert figures == every
    assert every.records == in_q4 and every.exportctl.disclosures == 2


def test_a_restarted_node_looks_for_sealed_records_without_reading_every_record(node: Node) -> None:
    """The inbox and status ask the seal desk for its findings; on a node's first request it looked
    through every record of every log for sealed ones (1.0-1.6 s at 100,000-500,000 records in the
    memory bench). None of these 393 records is sealed: none is read."""
    restarted = Node(node.config, node.base, clock=lambda: NOW.timestamp())
    try:
        before = restarted.state.rows_read
        assert restarted.sealing.findings() == []
        assert restarted.state.rows_read - before == 0
    finally:
        restarted.stop()
