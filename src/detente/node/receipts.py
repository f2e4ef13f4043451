"""Automatic receipts: for every mirrored record addressed to this party, a receipt record in its
own log that names the exact leaf, and an ``arrival`` alert for its operators."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from detente.node.alerts import Alerter
from detente.node.peers import Peers
from detente.node.records import RecordBook
from detente.node.writer import Writer
from detente.records.catalogue import RECEIPT
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.store.node_protocol import NodeStore, PeerRow

__all__ = ["Receipts"]


class Receipts:
    def __init__(
        self,
        me: str,
        writer: Writer,
        records: RecordBook,
        peers: Peers,
        state: NodeStore,
        alerts: Alerter,
        clock: Callable[[], float],
    ) -> None:
        self.me = me
        self.writer = writer
        self.records = records
        self.peers = peers
        self.state = state
        self.alerts = alerts
        self.clock = clock
        self._lock = threading.Lock()
        self._receipted: set[tuple[str, int]] | None = None  # (origin, index) this party has receipted

    def issue(self, row: PeerRow) -> int:
        """Append an automatic receipt for every mirrored record of ``row`` addressed to us.

        A cursor remembers how far receipts were issued; it moves only after the receipts are
        durable, so a crash never skips one; and the receipts already in the own log are not issued
        again (a window that failed half-way, or two syncs of one peer at once, found by
        bench/load_bench.py). A quarantined record gets no receipt: it is not a valid record.
        """
        with self._lock:  # two syncs of one peer (a push and the periodic pull) must not both issue
            if self._receipted is None:  # receipts already in the own log: a failed window is not re-issued
                self._receipted = {
                    (ref.origin, ref.index)
                    for x in self.records.of_type([RECEIPT])
                    if x.origin == self.me
                    for ref in x.record.refs
                }
            return self._issue(row, self._receipted)

    def _issue(self, row: PeerRow, receipted: set[tuple[str, int]]) -> int:
        cursor_name = f"receipts:{row.name}"
        mirror = self.peers.mirror(row)
        start = self.state.get_cursor(cursor_name)
        issued = 0
        for begin in range(start, mirror.size, 256):
            end = min(begin + 256, mirror.size)
            for item in self.records.mirrored(mirror, begin, end):
                if (item.origin, item.index) in receipted:
                    continue
                if self.me in item.record.to and item.record.type != RECEIPT:  # no receipts of receipts
                    now = datetime.fromtimestamp(self.clock(), UTC)
                    ref = RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel="receipt-of")
                    self.writer.append(
                        Record(
                            type=RECEIPT,
                            party=self.me,
                            issued=now,
                            body={"received_at": now.isoformat()},
                            to=(item.origin,),
                            refs=(ref,),
                        )
                    )
                    receipted.add((item.origin, item.index))
                    issued += 1
                    self.alerts.alert(
                        "arrival",
                        origin=item.origin,
                        index=item.index,
                        type=item.record.type,
                        priority=item.record.body.get("priority"),
                    )
            self.state.set_cursor(cursor_name, end)
        return issued
