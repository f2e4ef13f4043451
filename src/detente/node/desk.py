"""What every domain desk of a node shares: the node's clock, appending a record as this party,
and where an appended record landed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente.records.record import Record

if TYPE_CHECKING:
    from detente.node.node import Node
    from detente.node.sequencer import Sequenced

__all__ = ["Desk"]


class Desk:
    def __init__(self, node: Node) -> None:
        self.node = node

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.node.clock(), UTC)

    def _append(self, record_type: str, body: dict[str, Any], **kw: Any) -> Sequenced:
        """Sign ``body`` as a record of this party (``kw``: ``to``, ``refs``, ``text``) and append it."""
        record = Record(type=record_type, party=self.node.identity.name, issued=self._now(), body=body, **kw)
        return self.node.append(record)

    def _placed(self, seq: Sequenced, **extra: Any) -> dict[str, Any]:
        return {"origin": self.node.identity.name, "index": seq.index, "leaf_hash": seq.leaf_hash.hex(), **extra}
