"""What a domain desk may ask of the node it works for: who the party is, its clock, appending as
the party, reading records, its peers and the agreement in force. Desks depend on this Protocol,
never on :class:`detente.node.node.Node` (which is one), so no import runs back up from a desk to
the composition root."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from detente.crypto.keys import Ed25519Identity
from detente.node.config import NodeConfig
from detente.node.peers import PeerStatus
from detente.node.sequencer import Sequenced
from detente.node.tilelog import TileLog
from detente.protocol.agreement import Agreement
from detente.protocol.threads import Logged
from detente.records.record import Record
from detente.records.text import BilingualText
from detente.store.node_protocol import NodeStore, PeerRow

__all__ = ["Party"]


class Party(Protocol):
    config: NodeConfig
    base: Path
    """The node's folder (a desk keeps files of its own there, e.g. the C2PA chain)."""
    clock: Callable[[], float]
    log: TileLog
    """The party's own log."""
    state: NodeStore
    agreement: Agreement

    @property
    def identity(self) -> Ed25519Identity:
        """The party's log key in force (its ``name`` is the party's origin)."""
        ...

    @property
    def peers(self) -> dict[str, PeerStatus]: ...

    def append(self, record: Record) -> Sequenced:
        """Check, sign and append ``record`` as this party; return once it is durable."""
        ...

    def append_many(
        self, records: list[Record], *, progress: Callable[[int], None] | None = None
    ) -> list[Sequenced]: ...

    def all_records(self) -> list[Logged]:
        """Every record of the own log and of every followed peer's (quarantined ones left out),
        read from the store for this call: prefer :meth:`records_of`."""
        ...

    def records_of(self, types: Collection[str] | None = None) -> list[Logged]:
        """The records of ``types`` (every type when ``None``), own log first, quarantined ones left out."""
        ...

    def protocol_records(self) -> list[Logged]:
        """The records the protocol engine evaluates (kept at hand by the node)."""
        ...

    def logged(self, tlog: TileLog, start: int, end: int) -> list[Logged]: ...

    def logged_at(self, origin: str, index: int) -> list[Logged]: ...

    def followed(self) -> list[PeerRow]: ...

    def peer_by_origin(self, origin: str) -> PeerRow | None: ...

    def mirror(self, row: PeerRow) -> TileLog: ...

    def reply(
        self, origin: str, index: int, record_type: str, body: dict[str, object], text: BilingualText | None = None
    ) -> Sequenced: ...

    def cosigned_checkpoint(self) -> bytes: ...
