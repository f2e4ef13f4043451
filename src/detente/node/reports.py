"""The report desk of a node: a quarter's figures from every log it follows, the HTML and PDF
documents rendered from them, and the signed ``quarterly-report`` record that publishes the
figures with the documents' SHA-256.

The figures are folded by the pure :class:`detente.report.quarter.QuarterFold` from the node's
records (read from the store a page at a time), its agreement, its clock, and the verification
status of its logs (the same node state
``GET /api/v1/status`` shows: own log size, root and cosigners; each peer's mirror, last sync and
error; alarms).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente import __version__
from detente.crypto.note import parse_note
from detente.errors import DetenteError, EntryTooLarge
from detente.node.desk import well_formed
from detente.node.party import Party
from detente.node.records import issued_window, parsed, read_issued
from detente.node.timebook import TimeBook
from detente.protocol.threads import WITHHELD, Logged, opens_thread
from detente.records.record import Record
from detente.report.figures import QuarterlyFigures
from detente.report.labels import check_lang
from detente.report.period import parse_period
from detente.report.quarter import CONTEXT_TYPES, QuarterFold
from detente.report.records import QUARTERLY_REPORT, QuarterlyReport

if TYPE_CHECKING:
    from detente.node.tilelog import TileLog

__all__ = ["ReportDesk"]

PAGE = 1000
"""Records of a quarter read, parsed and folded at a time (with the records referring to its threads)."""


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

    def figures_model(self, period: str) -> QuarterlyFigures:
        """The quarter's figures, folded (:class:`~detente.report.quarter.QuarterFold`) from what the
        store gives page by page, never every record of every log nor the whole quarter at once:
        first the records a quarter is judged under (the commitment, glossary and recognition-
        signature records issued before its end, the withheld notices of its calendar year: read by
        type, held for the call); then the records issued in the quarter, :data:`PAGE` at a time in
        time order (:meth:`NodeStore.records_by_time`), each page folded in and its threads
        evaluated with the records that refer to them. Each thread's replies are applied in log
        order, own log first (as when every record was read), so the figures are the ones the
        whole quarter read at once gives. A malformed peer record is skipped, never fatal."""
        node = self.node
        start, end = parse_period(period)
        node.records_of(())  # catches the index up with every log held (reads no record)
        origins = [node.identity.name, *(node.peers[row.name].origin for row in node.followed())]
        rank = {origin: i for i, origin in enumerate(origins)}

        def in_log_order(items: Iterable[Logged]) -> list[Logged]:
            unique = {(x.origin, x.index): x for x in items if x.origin in rank}
            return [unique[k] for k in sorted(unique, key=lambda k: (rank[k[0]], k[1]))]

        fold = QuarterFold(
            node.agreement,
            node.identity.name,
            period,
            now=self._now(),
            times=TimeBook(node.state).times(node.agreement.time_rule()),
        )
        year = datetime(start.year, 1, 1, tzinfo=UTC)
        fold.judge_under(
            in_log_order(
                well_formed(
                    [
                        *read_issued(node.state, origins, None, end, CONTEXT_TYPES - {WITHHELD}),
                        *read_issued(node.state, origins, year, end, [WITHHELD]),
                    ]
                )
            )
        )
        commitments = fold.commitment_records
        for page in self.pages(origins, start, end):
            subjects = set()
            for x in page:
                fold.add(x, (rank[x.origin], x.index))
                if fold.in_quarter(x) and opens_thread(x.record):
                    subjects.add(x.key)
            if subjects:
                opened = [x for x in page if x.key in subjects]
                replies = parsed(node.state.referrers([(x.origin, x.index) for x in opened]))
                fold.add_threads(in_log_order([*opened, *well_formed(replies), *commitments]), subjects)
        return fold.figures(self.verification())

    def pages(self, origins: list[str], start: datetime, end: datetime) -> Iterator[list[Logged]]:
        """The well-formed records of ``origins`` issued from ``start`` to ``end`` (a second wider each
        way: an older store's times were read to the millisecond; the fold checks each record's own
        time), :data:`PAGE` at a time in time order: one page parsed at a time."""
        wide_since, wide_until = issued_window(start, end)
        since, until = wide_since or "", wide_until or ""  # both ends are given: neither is None
        after: tuple[str, str, int] | None = None
        while rows := self.node.state.records_by_time(origins, since=since, until=until, after=after, limit=PAGE):
            after = (rows[-1].issued or "", rows[-1].origin, rows[-1].index)
            yield well_formed(parsed(rows))
            if len(rows) < PAGE:
                return

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
