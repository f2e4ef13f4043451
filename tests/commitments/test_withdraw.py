"""Withdrawing from a commitment on a node (the commitments desk): the withdrawal's ``effective``
time carries a time zone and is not before the withdrawal is issued (a party cannot date its exit
back past notices it already sent under the commitment); nothing is signed when it is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from detente.commitments.model import CommitmentDocument
from detente.errors import MalformedRecord
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.records.text import BilingualText

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
US, CN = "us.example/log", "cn.example/log"
T = {"original": {"lang": "en", "text": "hello"}}
REASON = BilingualText.model_validate({"original": {"lang": "en", "text": "under review"}})


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", US, tmp_path_factory.mktemp("withdraw") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base, clock=NOW.timestamp)
    node.commitments.draft(
        CommitmentDocument.model_validate(
            {
                "document_id": "d1",
                "version": 1,
                "kind": "statement",
                "title": T,
                "parties": [US, CN],
                "clauses": [{"id": "c1", "text": T}],
            }
        )
    )
    yield node
    node.stop()


@pytest.mark.parametrize(
    ("effective", "message"),
    [
        (datetime(2000, 1, 1, tzinfo=UTC), "before this withdrawal is issued"),
        (NOW - timedelta(seconds=1), "before this withdrawal is issued"),
        (datetime(2027, 1, 1), "has no time zone"),
    ],
    ids=["years back", "a second back", "naive"],
)
def test_an_effective_time_in_the_past_or_without_a_zone_is_refused(
    node: Node, effective: datetime, message: str
) -> None:
    size = node.log.size
    with pytest.raises(MalformedRecord, match=message) as caught:
        node.commitments.withdraw("d1", 1, REASON, effective)
    assert caught.value.hint and node.log.size == size


def test_a_withdrawal_now_or_later_is_signed(node: Node) -> None:
    node.commitments.withdraw("d1", 1, REASON, NOW + timedelta(days=30))
    (version,) = node.commitments.show("d1")["versions"]
    assert version["withdrawn"]["effective"] == (NOW + timedelta(days=30)).isoformat()
    node.commitments.withdraw("d1", 1, REASON, None)
    (version,) = node.commitments.show("d1")["versions"]
    assert version["withdrawn"]["effective"] == NOW.isoformat()
