"""The quarterly report reads its quarter from a real node's store (SQLite) in pages: no read
returns more than a page of records, however many the quarter holds, and the figures are the ones
every record read at once gives. With the whole quarter parsed at once, the node's peak memory grew
with the quarter (749 MB at 200,000 records in ``bench/memory_bench.py --spread-days 120``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from detente.node import reports
from detente.node.config import load_config
from detente.node.desk import well_formed
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.timebook import TimeBook
from detente.records.record import Record
from detente.records.text import BilingualText, LangText
from detente.report.quarter import quarterly_figures
from detente.store.node_protocol import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CN = "cn.example/log"
PAGE = 25
READS = ("records", "records_issued", "records_by_time", "referrers", "threads", "threads_about", "due_threads")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", "us.example/log", tmp_path_factory.mktemp("pages") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base, clock=lambda: NOW.timestamp())
    cn = LocalNode("cn", CN, tmp_path_factory.mktemp("pages") / "cn").init()  # pinned, never answers
    node.syncer.follow(PeerRow(name="cn", url="http://127.0.0.1:9", vkey=cn.vkey, cosigner_vkey=None, added=0))
    me = node.signer.identity.name
    text = BilingualText(original=LangText(lang="en", text="x"), translations={})
    q3, q4 = datetime(2026, 9, 20, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
    records = [
        Record(type="detente.dev/statement/v1", party=me, issued=q3 + timedelta(hours=i), body={"n": i})
        for i in range(60)
    ]
    for i in range(400):  # the quarter: statements, and every tenth a hotline message (a thread)
        at = q4 + timedelta(minutes=37 * ((i * 7) % 400))  # log order is not time order
        body = {"priority": "flash" if i % 20 else "routine", "topic": "urgent-concern"}
        records.append(
            Record(type="detente.dev/hotline-message/v1", party=me, issued=at, to=(CN,), body=body, text=text)
            if i % 10 == 0
            else Record(type="detente.dev/statement/v1", party=me, issued=at, body={"n": i, "text": "x" * 200})
        )
    node.writer.append_many(records)
    node.exportctl.disclose((CN,), text)
    node.records.catch_up()
    yield node
    node.stop()


def _largest_reads(node: Node) -> tuple[dict[str, int], Callable[[], None]]:
    """Wrap the store's record reads (on this instance only): the most rows any one call returned."""
    largest: dict[str, int] = {}
    originals: dict[str, Any] = {}
    for name in READS:
        method = getattr(node.state, name, None)
        if method is None:
            continue
        originals[name] = method

        def counted(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            out = _method(*args, **kwargs)
            rows = out[1] if isinstance(out, tuple) else out
            largest[_name] = max(largest.get(_name, 0), len(rows))
            return out

        setattr(node.state, name, counted)

    def restore() -> None:
        for name in originals:
            delattr(node.state, name)

    return largest, restore


def test_the_quarter_is_read_a_page_at_a_time(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "PAGE", PAGE, raising=False)
    largest, restore = _largest_reads(node)
    try:
        figures = node.reports.figures_model("2026Q4")
    finally:
        restore()
    assert figures.records == 401 and figures.hotline.total == 41
    assert largest and max(largest.values()) <= PAGE, largest  # 401 records of the quarter, none read at once

    me = node.signer.identity.name
    every = quarterly_figures(
        well_formed(node.records.all()),
        node.agreement,
        me,
        "2026Q4",
        verification=node.reports.verification(),
        now=NOW,
        times=TimeBook(node.state).times(node.agreement.time_rule()),
    )
    assert figures == every
    assert len(figures.hotline.items) == 20 and figures.hotline.items_total == 21  # the newest 20 urgent of 21
