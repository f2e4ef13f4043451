"""Writing as this party: every check a record passes before it is signed (marking, schema,
quota), sealing with the key in force, and appending through the sequencer (group commit).
A signed record cannot be taken back, so everything that can be refused is refused first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from pydantic import BaseModel

from detente.crypto.keys import Ed25519Identity
from detente.errors import Forbidden, LanguageMismatch, LogNotFound, MalformedRecord, QuotaExceeded, UnknownRecipient
from detente.node.peers import Peers
from detente.node.records import RecordBook
from detente.node.sequencer import Sequenced, Sequencer
from detente.protocol.agreement import Agreement
from detente.protocol.threads import WITHHELD, Logged
from detente.records.catalogue import check_type, validate_record
from detente.records.entry import seal_record
from detente.records.record import TLP, Record
from detente.records.script import script_mismatches
from detente.records.sealing import RESTRICTED
from detente.records.text import BilingualText
from detente.tlog.hashing import leaf_hash

__all__ = ["Signer", "Writer"]


class Signer:
    """The party's log key in force, and the lock that orders sealing against rotating it."""

    def __init__(self, identity: Ed25519Identity) -> None:
        self.identity = identity
        self.lock = threading.Lock()


class Writer:
    def __init__(
        self,
        signer: Signer,
        sequencer: Sequencer,
        records: RecordBook,
        agreement: Callable[[], Agreement],
        appended: Callable[[], None],
        peers: Peers,
    ) -> None:
        self.signer = signer
        self.peers = peers
        self.sequencer = sequencer
        self.records = records
        self._agreement = agreement
        self._appended = appended
        self.sealer: Callable[[Record], Record] | None = None
        """Seals a restricted record to its recipients (the node's :class:`SealDesk`)."""

    def append(self, record: Record, *, force_lang: bool = False) -> Sequenced:
        """Validate, sign and append one record; return once it is durable. Then witnesses are asked.

        A party log is served to every peer and auditor, so a record whose TLP marking limits who
        may read it (AMBER, AMBER+STRICT, RED) is sealed to its recipients before it is signed.
        """
        record = self.admit(record, force_lang=force_lang)
        with self.signer.lock:  # nothing sealed by a key is queued after the record rotating it
            future = self.sequencer.submit(seal_record(record, self.signer.identity))
        result = future.result(60.0)
        self._appended()
        return result

    def appender(self, record_type: str, clock: Callable[[], float]) -> Callable[[dict[str, object]], int]:
        """A function that appends a body as a record of ``record_type`` by this party, issued
        now, and returns its index (how a fork alarm is logged)."""

        def append(body: dict[str, object]) -> int:
            issued = datetime.fromtimestamp(clock(), UTC)
            return self.append(
                Record(type=record_type, party=self.signer.identity.name, issued=issued, body=body)
            ).index

        return append

    def append_many(self, records: list[Record], *, progress: Callable[[int], None] | None = None) -> list[Sequenced]:
        """Validate every record first (one bad record writes nothing), then sign and append them
        all in group-committed batches; returns their positions in order."""
        records = [self.admit(record) for record in records]
        out: list[Sequenced] = []
        for start in range(0, len(records), 500):
            chunk = records[start : start + 500]
            with self.signer.lock:
                futures = [self.sequencer.submit(seal_record(r, self.signer.identity)) for r in chunk]
            out.extend(f.result(timeout=120) for f in futures)
            if progress is not None:
                progress(len(chunk))
        self._appended()
        return out

    def admit(self, record: Record, *, force_lang: bool = False) -> Record:
        """Every check a record passes before it is signed: type, schema, the script of each text
        of its body against its language tag (unless ``force_lang``), recipients, quota, and
        its marking: a TLP:AMBER, AMBER+STRICT or RED record is checked as written, then sealed to
        its recipients (``sealer``; docs/sealed.md). Returns the record to sign."""
        restricted = record.tlp in RESTRICTED and record.sealed is None
        check_type(record.type)
        body = validate_record(record.model_copy(update={"tlp": TLP.CLEAR}) if restricted else record)
        _check_blank(record, body)
        if not force_lang:
            _check_scripts(body)
        self._check_refs(record)
        self._check_recipients(record)
        if record.type == WITHHELD and not record.body.get("over_quota"):
            self._check_withheld_quota(record)
        if not restricted:
            return record
        if self.sealer is None:
            raise Forbidden(
                f"a {record.tlp.value} record would be readable by every peer and auditor of this log",
                hint="mark it TLP:CLEAR or TLP:GREEN; this writer cannot seal records to their recipients",
            )
        sealed = self.sealer(record)
        validate_record(sealed)
        return sealed

    def _check_refs(self, record: Record) -> None:
        """Each reference into this party's own log names a leaf it holds, by that leaf's hash; one
        into a followed peer's log, by the hash this node indexed for that leaf (a leaf not mirrored
        yet cannot be checked here)."""
        own = self.sequencer.log
        for i, ref in enumerate(record.refs):
            if ref.origin == own.origin:
                if ref.index >= own.size:
                    raise LogNotFound(
                        f"refs[{i}] names {ref.origin}#{ref.index}, past the end of this party's log "
                        f"(size {own.size}); nothing was signed",
                        hint="name a record this party has logged (GET /api/v1/records lists each with its index)",
                    )
                held = leaf_hash(own.entry(ref.index)).hex()
            elif self.peers.by_origin(ref.origin) is not None:
                rows = self.records.state.records(ref.origin, start=ref.index, end=ref.index + 1)
                rows = rows or self.records.state.quarantined(ref.origin, start=ref.index, end=ref.index + 1)[1]
                if not rows:
                    continue
                held = rows[0].leaf_hash
            else:
                continue
            if ref.leaf_hash != held:
                raise MalformedRecord(
                    f"refs[{i}] names {ref.origin}#{ref.index} with leaf hash {ref.leaf_hash}, but that leaf's "
                    f"hash is {held}; nothing was signed",
                    hint="copy the leaf_hash of the record as the node lists it (GET /api/v1/records?origin=...)",
                )

    def _check_recipients(self, record: Record) -> None:
        """Every recipient is the log origin of a peer this node follows, or a party already in
        the thread the record references (a reply, a missed deadline or an escalation in a thread
        that a peer opened with a party this node does not follow)."""
        unknown = [to for to in record.to if self.peers.by_origin(to) is None]
        if unknown:
            named = {
                p for ref in record.refs for item in self.records.at(ref.origin, ref.index) for p in _parties(item)
            }
            unknown = [to for to in unknown if to not in named]
        if not unknown:
            return
        followed = {s.name: s.origin for s in self.peers.status.values() if s.name not in self.peers.bad}
        shown = ", ".join(f"{name} ({origin})" for name, origin in sorted(followed.items())) or "none yet"
        raise UnknownRecipient(
            f"{', '.join(unknown)}: not the log origin of a peer this node follows (nothing was signed)",
            hint=f"name each recipient by a pinned peer's name or log origin; pinned peers: {shown} "
            "(pin one with: detente peer add NAME URL --vkey VKEY)",
        )

    def _check_withheld_quota(self, record: Record) -> None:
        me = self.signer.identity.name
        year = record.issued.year
        used = sum(
            1 for item in self.records.of_type([WITHHELD]) if item.origin == me and item.record.issued.year == year
        )
        agreement = self._agreement()
        limit = agreement.withheld_per_year
        if used >= limit:
            raise QuotaExceeded(
                f"{me} has withheld {used} notification(s) in {year}; "
                f"agreement {agreement.agreement_id} allows {limit} a year",
                hint="to record it anyway, set over_quota: true in the body (every party will see the excess)",
            )


def _texts(value: object, path: str = "") -> Iterator[tuple[str, BilingualText]]:
    """Each bilingual text of a parsed body, with its field's path (models, and lists and dicts of
    them; a free-form JSON value holds none)."""
    if isinstance(value, BilingualText):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if isinstance(item, BaseModel):
                yield from _texts(item, f"{path}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, BaseModel):
                yield from _texts(item, f"{path}.{key}")


def _check_blank(record: Record, body: BaseModel | None) -> None:
    """Refuse a text of the record or of its body that shows nothing (only spaces or invisible
    characters). Checked here, not when a record is parsed: a peer's record carrying one is read."""
    texts = [("text", record.text)] if record.text is not None else []
    blank = [f"{path}.{which}" for path, text in [*texts, *_texts(body)] for which in text.blank()]
    if blank:
        raise MalformedRecord(
            f"{', '.join(blank)}: blank (only spaces or invisible characters); nothing was signed",
            hint="write the text, or leave out a translation that has none",
        )


def _check_scripts(body: BaseModel | None) -> None:
    """Refuse a body text whose script contradicts its language tag (as the records route does for
    a record's ``text``): Han text marked ``en`` is a mistake a signed record cannot take back."""
    problems = [f"{path}: {problem}" for path, text in _texts(body) for problem in script_mismatches(text)]
    if problems:
        raise LanguageMismatch(
            "; ".join(problems) + " (nothing was signed)",
            hint="set the right language tag of that text (e.g. zh-Hans for Chinese, en for English)",
        )


def _parties(item: Logged) -> tuple[str, ...]:
    return (item.origin, *item.record.to)
