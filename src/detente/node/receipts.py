"""Automatic receipts: for every mirrored record addressed to this party, a receipt record in its
own log that names the exact leaf, and an ``arrival`` alert for its operators."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from detente.node.alerts import Alerter
from detente.node.peers import Peers
from detente.node.records import RecordBook
from detente.node.timebook import TimeBook
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
        self.timebook = TimeBook(state)

    def issue(self, row: PeerRow) -> int:
        """Append an automatic receipt for every mirrored record of ``row`` addressed to us.

        A cursor remembers how far receipts were issued; it moves only after the receipts are
        durable, so a crash never skips one; and the receipts already in the own log are not issued
        again (a window that failed half-way, or two syncs of one peer at once, found by
        bench/load_bench.py). A quarantined record gets no receipt: it is not a valid record.
        """
        with self._lock:  # two syncs of one peer (a push and the periodic pull) must not both issue
            self.records.catch_up()  # receipts already in the own log are indexed: none is issued twice
            return self._issue(row)

    def _issue(self, row: PeerRow) -> int:
        cursor_name = f"receipts:{row.name}"
        mirror = self.peers.mirror(row)
        start = self.state.get_cursor(cursor_name)
        issued = 0
        done: set[tuple[str, int]] = set()  # receipted in this call (the index catches up on the next)
        for begin in range(start, mirror.size, 256):
            end = min(begin + 256, mirror.size)
            for item in self.records.mirrored(mirror, begin, end):
                if self.me not in item.record.to or item.record.type == RECEIPT:  # no receipts of receipts
                    continue
                if (item.origin, item.index) in done or self.records.receipted(item.origin, item.index, self.me):
                    continue  # a window that failed half-way, or two syncs at once: never a second receipt
                now = datetime.fromtimestamp(self.clock(), UTC)
                ref = RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel="receipt-of")
                # When this node first held the record (its own observation, kept at mirroring time),
                # so that both sides' view of the delivery is in the logs.
                seen = self.timebook.first_mirrored(item.origin, item.index) or now
                record = Record(
                    type=RECEIPT,
                    party=self.me,
                    issued=now,
                    body={"received_at": min(seen, now).isoformat()},
                    to=(item.origin,),
                    refs=(ref,),
                )
                self.writer.append(record)
                done.add((item.origin, item.index))
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
