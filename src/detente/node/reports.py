"""The report desk of a node: a quarter's figures from every log it follows, the HTML and PDF
documents rendered from them, and the signed ``quarterly-report`` record that publishes the
figures with the documents' SHA-256.

The figures are computed by the pure :func:`detente.report.quarterly_figures` from the node's
records, its agreement, its clock, and the verification status of its logs (the same node state
``GET /api/v1/status`` shows: own log size, root and cosigners; each peer's mirror, last sync and
error; alarms).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente import __version__
from detente.commitments.model import GLOSSARY
from detente.crypto.note import parse_note
from detente.errors import DetenteError, EntryTooLarge
from detente.exportctl.records import RECOGNITION_SIGNATURE
from detente.node.desk import well_formed
from detente.node.party import Party
from detente.node.records import parsed, read_issued
from detente.node.timebook import TimeBook
from detente.protocol.threads import COMMITMENT_TYPES, WITHHELD, Logged, opens_thread
from detente.records.record import Record
from detente.report.figures import QuarterlyFigures
from detente.report.labels import check_lang
from detente.report.period import parse_period
from detente.report.quarter import quarterly_figures
from detente.report.records import QUARTERLY_REPORT, QuarterlyReport

if TYPE_CHECKING:
    from detente.node.tilelog import TileLog

__all__ = ["ReportDesk"]

_BEFORE_END = frozenset({*COMMITMENT_TYPES, GLOSSARY, RECOGNITION_SIGNATURE})
"""The types a quarter is judged under whenever they were issued before its end: the commitment
ledger (documents, signatures, withdrawals, glossary definitions) and arrangements' signatures."""


def _cosigners(tlog: TileLog, note: bytes | None = None) -> list[str]:
    """Names of the witnesses whose cosignatures the log's latest checkpoint carries."""
    try:
        parsed = parse_note(note if note is not None else tlog.signed_checkpoint())
    except DetenteError:
        return []
    return sorted({s.name for s in parsed.signatures if s.name != tlog.origin})


class ReportDesk:
    def __init__(self, node: Party) -> None:
        self.node = node

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.node.clock(), UTC)

    def verification(self) -> dict[str, Any]:
        """Each followed log's size, root, cosigners and sync state, and the alarms raised."""
        node = self.node
        logs: list[dict[str, Any]] = [
            {
                "name": node.config.name,
                "origin": node.identity.name,
                "role": "own",
                "size": node.log.size,
                "root": node.log.checkpoint.root.hex(),
                "cosigned_by": _cosigners(node.log, node.cosigned_checkpoint()),
            }
        ]
        for row in node.state.peers():
            mirror = node.mirror(row)
            status = node.peers.get(row.name)
            logs.append(
                {
                    "name": row.name,
                    "origin": mirror.origin,
                    "role": "peer",
                    "size": mirror.size,
                    "root": mirror.checkpoint.root.hex(),
                    "cosigned_by": _cosigners(mirror),
                    "last_sync": status.last_sync if status else None,
                    "last_error": status.last_error if status else None,
                    "witness_size": status.witness_size if status else None,
                }
            )
        alarms = [{"origin": a.origin, "kind": a.kind, "detail": a.detail, "at": a.at} for a in node.state.alarms()]
        return {"logs": logs, "alarms": alarms}

    def records(self, period: str) -> list[Logged]:
        """What the quarter's figures are computed from, read from the store by time and by type,
        never every record of every log: the records issued in the quarter; the records that refer
        to the threads opened in it (their replies, misses and escalations); the commitment
        records and recognition signatures issued before its end (the agreements and arrangements
        it is judged under); the withheld notices of its calendar year (the yearly quota). The
        pure :func:`quarterly_figures` picks from these exactly what it picked from every record.
        Own log first, then each followed log, each in log order, as every record was read."""
        node = self.node
        start, end = parse_period(period)
        node.records_of(())  # catches the index up with every log held (reads no record)
        origins = [node.identity.name, *(node.peers[row.name].origin for row in node.followed())]
        quarter = read_issued(node.state, origins, start, end)
        subjects = [(x.origin, x.index) for x in quarter if opens_thread(x.record)]
        found = [
            *quarter,
            *parsed(node.state.referrers(subjects)),
            *read_issued(node.state, origins, None, end, _BEFORE_END),
            *read_issued(node.state, origins, datetime(start.year, 1, 1, tzinfo=UTC), end, [WITHHELD]),
        ]
        rank = {origin: i for i, origin in enumerate(origins)}
        unique = {(x.origin, x.index): x for x in found if x.origin in rank}
        return [unique[k] for k in sorted(unique, key=lambda k: (rank[k[0]], k[1]))]

    def figures_model(self, period: str) -> QuarterlyFigures:
        node = self.node
        return quarterly_figures(
            well_formed(self.records(period)),  # a malformed peer record is skipped, never fatal
            node.agreement,
            node.identity.name,
            period,
            verification=self.verification(),
            now=self._now(),
            times=TimeBook(node.state).times(node.agreement.time_rule()),
        )

    def figures(self, period: str) -> dict[str, Any]:
        """The quarter's figures as JSON (see ``docs/report.md``)."""
        return self.figures_model(period).model_dump(mode="json")

    def html(self, period: str, lang: str = "en") -> str:
        from detente.report.html import render_html

        check_lang(lang)
        return render_html(self.figures_model(period), lang)

    def pdf(self, period: str, lang: str = "en", compute: Callable[..., bytes] | None = None) -> bytes:
        """The report as PDF. ``compute`` runs the rendering, a pure function of the figures (the
        API: in a worker process, ``HeavyWork.compute``); by default it is called here."""
        from detente.report.pdf import render_pdf  # reportlab: loaded when first used

        check_lang(lang)
        figures = self.figures_model(period)
        return compute(render_pdf, figures, lang) if compute is not None else render_pdf(figures, lang)

    def publish(self, period: str, lang: str = "en") -> dict[str, Any]:
        """Sign and append a ``quarterly-report`` record: the figures and the SHA-256 of the HTML
        and PDF rendered from them. If the item lists make it too large for one log entry, they
        are left out (every count stays) and the documents are rendered from what is published.
        Returns where the record sits, the hashes, and the published figures (from which anyone
        re-renders the same documents)."""
        check_lang(lang)
        figures = self.figures_model(period)
        try:
            return self._publish(figures, lang)
        except EntryTooLarge:
            return self._publish(figures.without_items(), lang)

    def _publish(self, figures: QuarterlyFigures, lang: str) -> dict[str, Any]:
        from detente.report.html import render_html
        from detente.report.pdf import render_pdf

        html_sha256 = hashlib.sha256(render_html(figures, lang).encode()).hexdigest()
        pdf_sha256 = hashlib.sha256(render_pdf(figures, lang)).hexdigest()
        body = QuarterlyReport(
            period=figures.period,
            figures=figures.model_dump(mode="json"),
            html_sha256=html_sha256,
            pdf_sha256=pdf_sha256,
            generated_at=figures.generated_at,
            lang=lang,
            generator=f"detente {__version__}",
        )
        record = Record(
            type=QUARTERLY_REPORT,
            party=self.node.identity.name,
            issued=self._now(),
            body=body.model_dump(mode="json"),
        )
        seq = self.node.append(record)
        return {
            "origin": self.node.identity.name,
            "index": seq.index,
            "leaf_hash": seq.leaf_hash.hex(),
            "period": figures.period,
            "lang": lang,
            "html_sha256": html_sha256,
            "pdf_sha256": pdf_sha256,
            "items_omitted": figures.items_omitted,
            "figures": body.figures,
        }
