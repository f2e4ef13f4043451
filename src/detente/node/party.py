"""What a domain desk may ask of the node it works for: who the party is, its clock, appending as
the party, reading records, its peers and the agreement in force. Desks depend on this Protocol,
never on :class:`detente.node.node.Node`, so no import runs back up from a desk to
the composition root. :class:`OwnParty` is the one a node builds from its parts."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from detente.crypto.keys import Ed25519Identity
from detente.node.config import NodeConfig
from detente.node.peers import Peers, PeerStatus
from detente.node.publisher import Publisher
from detente.node.records import RecordBook
from detente.node.sequencer import Sequenced
from detente.node.threads import ProtocolDesk
from detente.node.tilelog import TileLog
from detente.node.writer import Signer, Writer
from detente.protocol.agreement import Agreement
from detente.protocol.threads import Logged
from detente.records.record import Record
from detente.records.text import BilingualText
from detente.store.node_protocol import NodeStore, PeerRow

__all__ = ["OwnParty", "Party"]


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


class OwnParty:
    """This node as the party its desks work for: each question is answered by the part that owns
    it (the writer appends, the record book reads, the peers' part knows the peers)."""

    def __init__(
        self,
        config: NodeConfig,
        base: Path,
        clock: Callable[[], float],
        log: TileLog,
        state: NodeStore,
        agreement: Agreement,
        signer: Signer,
        writer: Writer,
        records: RecordBook,
        peers: Peers,
        publisher: Publisher,
        protocol: ProtocolDesk,
    ) -> None:
        self.config = config
        self.base = base
        self.clock = clock
        self.log = log
        self.state = state
        self.agreement = agreement
        self._signer = signer
        self._writer = writer
        self._records = records
        self._peers = peers
        self._publisher = publisher
        self._protocol = protocol

    @property
    def identity(self) -> Ed25519Identity:
        return self._signer.identity

    @property
    def peers(self) -> dict[str, PeerStatus]:
        return self._peers.status

    def append(self, record: Record) -> Sequenced:
        return self._writer.append(record)

    def append_many(self, records: list[Record], *, progress: Callable[[int], None] | None = None) -> list[Sequenced]:
        return self._writer.append_many(records, progress=progress)

    def all_records(self) -> list[Logged]:
        return self._records.all()

    def records_of(self, types: Collection[str] | None = None) -> list[Logged]:
        return self._records.of_type(types)

    def protocol_records(self) -> list[Logged]:
        return self._records.protocol()

    def logged(self, tlog: TileLog, start: int, end: int) -> list[Logged]:
        return self._records.logged(tlog, start, end)

    def logged_at(self, origin: str, index: int) -> list[Logged]:
        return self._records.at(origin, index, quarantined=True)  # a desk checks what it reads

    def followed(self) -> list[PeerRow]:
        return self._peers.followed()

    def peer_by_origin(self, origin: str) -> PeerRow | None:
        return self._peers.by_origin(origin)

    def mirror(self, row: PeerRow) -> TileLog:
        return self._peers.mirror(row)

    def reply(
        self, origin: str, index: int, record_type: str, body: dict[str, object], text: BilingualText | None = None
    ) -> Sequenced:
        return self._protocol.reply(origin, index, record_type, body, text)

    def cosigned_checkpoint(self) -> bytes:
        return self._publisher.cosigned_checkpoint()
