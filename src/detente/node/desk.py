"""What every domain desk of a node shares: the node's clock, appending a record as this party,
where an appended record landed, who a party name means, and reading records defensively.

A desk never trusts a record body blindly: a peer may log a validly signed record whose body does
not match its catalogued schema (``body: {}``). :meth:`Desk.well_formed` reads the records (of a
type) whose bodies match their schema and skips the rest, so an operator's read never fails on what a peer
published (the border quarantine in the sync keeps such records out in the first place; this is
the second line).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente.crypto.keys import VerifierKey
from detente.errors import DetenteError, VerificationError
from detente.node.party import Party
from detente.protocol.threads import Logged
from detente.records.catalogue import validate_record
from detente.records.record import Record

if TYPE_CHECKING:
    from detente.node.sequencer import Sequenced

__all__ = ["Desk", "is_well_formed", "well_formed"]

log = logging.getLogger(__name__)

_CHECKED: OrderedDict[bytes, bool] = OrderedDict()
"""Whether a record's body matches its schema, per leaf hash (a leaf hash names the exact signed
entry, so an answer never goes stale). Bounded: the least recently used are forgotten first."""
_CHECKED_MAX = 50_000
_CHECKED_LOCK = threading.Lock()


def is_well_formed(item: Logged) -> bool:
    """Whether the body of ``item`` matches its catalogued schema and addressing rules (a record of
    a type outside the catalogue has nothing to be checked against, and counts as well formed)."""
    key = bytes.fromhex(item.leaf_hash)
    with _CHECKED_LOCK:
        if key in _CHECKED:
            _CHECKED.move_to_end(key)
            return _CHECKED[key]
    try:
        validate_record(item.record)
        ok = True
    except (DetenteError, ValueError, TypeError) as exc:
        log.warning("malformed record skipped origin=%s index=%d type=%s: %s", item.origin, item.index,
                    item.record.type, exc)  # fmt: skip
        ok = False
    with _CHECKED_LOCK:
        _CHECKED[key] = ok
        while len(_CHECKED) > _CHECKED_MAX:
            _CHECKED.popitem(last=False)
    return ok


def well_formed(items: list[Logged], record_type: str | None = None) -> list[Logged]:
    """``items`` (of ``record_type``, if given) whose bodies match their catalogued schema."""
    return [x for x in items if (record_type is None or x.record.type == record_type) and is_well_formed(x)]


class Desk:
    opener: Callable[[Logged], Logged] | None = None
    """Opens a sealed record addressed to this party (the node sets its SealDesk's ``opened``)."""

    def __init__(self, node: Party) -> None:
        self.node = node

    def opened(self, item: Logged) -> Logged:
        """``item`` with a body a desk can read: as logged, or, when sealed (``docs/sealed.md``),
        opened with this node's keys. A sealed body this node cannot read raises a typed error that
        says why (never a ``KeyError`` further on)."""
        if item.record.sealed is None:
            return item
        if self.opener is None:
            raise VerificationError(
                f"{item.origin}#{item.index} is sealed ({item.record.tlp.value}): this node cannot read it"
            )
        return self.opener(item)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.node.clock(), UTC)

    def _append(self, record_type: str, body: dict[str, Any], **kw: Any) -> Sequenced:
        """Sign ``body`` as a record of this party (``kw``: ``to``, ``refs``, ``text``) and append it."""
        record = Record(type=record_type, party=self.node.identity.name, issued=self._now(), body=body, **kw)
        return self.node.append(record)

    def _placed(self, seq: Sequenced, **extra: Any) -> dict[str, Any]:
        return {"origin": self.node.identity.name, "index": seq.index, "leaf_hash": seq.leaf_hash.hex(), **extra}

    # --- reading defensively ----------------------------------------------------------------

    def well_formed(self, record_type: str | None = None) -> list[Logged]:
        """Every record (of ``record_type``) of every log this node holds whose body matches its
        catalogued schema; malformed ones are skipped (and logged), never raised. Read from the
        node's index by type: a desk holds them for one call, the node does not."""
        return well_formed(self.node.records_of(None if record_type is None else [record_type]), record_type)

    def protocol_records(self) -> list[Logged]:
        """The records the protocol engine evaluates (well formed), for a desk's own view of threads."""
        return well_formed(self.node.protocol_records())

    # --- who a party name means -------------------------------------------------------------

    def names_of(self, origin: str) -> set[str]:
        """Every name that means the party of log ``origin`` here: the origin itself, and its short
        name (this node's configured name for its own log, the pinned peer's name for a peer's)."""
        names = {origin}
        if origin == self.node.identity.name:
            names.add(self.node.config.name)
        else:
            row = self.node.peer_by_origin(origin)
            if row is not None:
                names.add(row.name)
        return names

    def origin_of(self, party: str) -> str | None:
        """The log origin a party name (an origin, this node's short name or a peer's) means, or
        ``None`` when this node knows no such party."""
        me = self.node.identity.name
        if party in (me, self.node.config.name):
            return me
        if self.node.peer_by_origin(party) is not None:
            return party
        for row in self.node.state.peers():
            if row.name == party:
                return VerifierKey.parse(row.vkey).name
        return None
