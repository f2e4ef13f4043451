"""Importers for public incident data: the AI Incident Database snapshot (CSV), the AI
Vulnerability Database (JSON reports) and MITRE ATLAS case studies (compiled YAML).

Pure: files in, :class:`ImportBatch` out (incident reports, classifications, and what was
skipped and why). No database, no network. Deterministic: the same files give the same batch in
the same order (incidents by source id; each incident's classifications by namespace).

A malformed record (a bad JSON cell, no title, a bad date, a value its taxonomy does not permit,
a row with the wrong number of cells) is skipped with its reason; the rest imports. Classifications
are checked against their built-in taxonomy (``taxonomy_for(namespace, version).check``) before
they are returned.

Sources
-------
* AIID (``read_aiid``): ``incidents.csv`` (one incident per row; list cells are JSON arrays; rows
  unsorted) and ``classifications_CSETv1.csv``, ``classifications_GMF.csv``,
  ``classifications_MIT.csv`` (namespaces CSETv1, GMF, MIT; taxonomy version
  :data:`AIID_VERSION`, which names the February 2026 snapshot whose taxa these files follow).
  Classification CSVs are read by column position, first occurrence of a name:
  ``classifications_CSETv1.csv`` repeats ``AI System`` (both columns carry the same value, as the
  AIID stores attributes by short name). List values are split back the way the AIID's export
  joined them (``", "``), matching the taxonomy's permitted values longest first, so
  ``"Arts, entertainment and recreation"`` stays one sector. ``--`` and blank cells are "no value".
  A classification the AIID has not published is imported with ``notes`` saying so.
  ``submissions.csv`` is ignored: its rows are unreviewed submissions with no incident id.
* AVID (``read_avid``): every ``reports/<year>/AVID-YYYY-RNNNN.json``. AVID classification from
  ``impact.avid`` (risk domain, SEP and lifecycle views, vulnerability id) and ``impact.atlas``;
  SEP and lifecycle names are normalised by their code to avidtools' spelling. Reports that do not
  state ``taxonomy_version`` are classified under AVID 0.2 (the latest any report states), and the
  classification's notes say so.
* ATLAS (``read_atlas``): every entry of the compiled ``ATLAS.yaml``'s top-level ``case-studies``;
  each procedure step's tactic and technique are resolved against the file's own matrix (ids and
  names) and classified under the ATLAS taxonomy of the file's ``version``.

Derived fields
--------------
The OECD framework's mandatory fields that a source lacks are derived by the fixed rules below;
``extra`` records the basis of each (``severity_basis``, ``harm_basis``, ``category_basis``,
``ai_relation_basis``, ``submitter_basis``), so nothing derived passes as sourced.

* Severity. AIID, from CSETv1 when classified: Lives Lost ≥ 10 or Injuries ≥ 100 → critical;
  any death or injury → high; Tangible Harm "definitively occurred" with Impact on Critical
  Services "yes" → high; tangible harm definitively occurred, or an imminent risk (near miss) →
  medium; an issue or no tangible harm → medium when Rights Violation or Special Interest
  Intangible Harm is "yes", else low; otherwise (unclear, blank, or no CSETv1) the default,
  medium. AVID: the CVSS base severity (NONE → low); else the 0DIN social impact level (1 → low,
  2–3 → medium, 4 → high, 5 → critical); else medium. ATLAS: medium (ATLAS grades nothing).
* Harm types (OECD (a)–(d)). AIID: CSETv1 deaths or injuries → health; Impact on Critical
  Services "yes" → critical-infrastructure; Rights Violation or Protected Characteristic "yes" →
  human-rights; other definite tangible harm → property-communities-environment; and the MIT risk
  subdomain by :data:`MIT_HARM` (e.g. 3.x misinformation → human-rights, as the OECD places
  mis- and disinformation under (c); 5.1 overreliance → health). AVID: the SEP codes by
  :data:`AVID_SEP_HARM`, else the risk domain (Ethics → human-rights, else property). ATLAS: the
  Impact and Exfiltration techniques (financial, reputational, user and societal harm, denial of
  service, data theft) are harms to property or communities. Without any of these:
  property-communities-environment (OECD (d)), marked as the default.
* Category (OECD 2024). AIID: CSETv1 AI Harm Level "AI tangible harm event" → AI incident, or a
  serious AI incident with a death or ≥ 100 injuries; "near-miss" or "issue" → AI hazard (OECD
  counts near misses as hazards); otherwise the AIID's own listing → AI incident. AVID: "AIID
  Incident" reports → AI incident; vulnerabilities, advisories and measurements → AI hazard.
  ATLAS: case-study type ``incident`` → AI incident, ``exercise`` → AI hazard.
* How the AI system is related: the source's alleged developers and deployers (AIID), the CSETv1
  AI system description and the MIT causal classification; the AVID problem type and affected
  artifacts; the ATLAS target and actor. Submitter: the report's credit or reporter where the
  source names one, else the source database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from detente.errors import MalformedRecord
from detente.incidents.importers.aiid import AIID_VERSION, MIT_HARM, _read_csv, read_aiid
from detente.incidents.importers.atlas import _atlas_file, read_atlas
from detente.incidents.importers.avid import AVID_DEFAULT_VERSION, AVID_SEP_HARM, _avid_files, read_avid
from detente.incidents.importers.batch import ImportBatch, Progress, Skipped

__all__ = [
    "AIID_VERSION",
    "AVID_DEFAULT_VERSION",
    "AVID_SEP_HARM",
    "MIT_HARM",
    "READERS",
    "ImportBatch",
    "Progress",
    "Skipped",
    "count_records",
    "read_aiid",
    "read_all",
    "read_atlas",
    "read_avid",
]


def count_records(source: str, path: Path) -> int:
    """How many source records (the progress total) ``READERS[source]`` will visit at ``path``."""
    if source == "aiid":
        return len(_read_csv(path / "incidents.csv")[1])
    if source == "avid":
        return len(_avid_files(path))
    if source == "atlas":
        return len(_atlas_file(path)[1])
    raise MalformedRecord(f"unknown source {source!r}", hint="one of aiid, avid, atlas")


READERS: dict[str, Callable[..., ImportBatch]] = {"aiid": read_aiid, "avid": read_avid, "atlas": read_atlas}
"""Reader by source name: aiid (a snapshot folder), avid (an avid-db folder), atlas (ATLAS.yaml)."""


def read_all(
    origin: str,
    *,
    aiid: Path | None = None,
    avid: Path | None = None,
    atlas: Path | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """The sources given, in the order AIID, AVID, ATLAS, as one batch; ``progress`` counts over
    all of them (the total is known before the first record)."""
    sources = [(name, path) for name, path in (("aiid", aiid), ("avid", avid), ("atlas", atlas)) if path is not None]
    totals = [count_records(name, path) for name, path in sources]
    grand = sum(totals)
    batch = ImportBatch()
    offset = 0
    for (name, path), total in zip(sources, totals, strict=True):
        base = offset

        def forward(done: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + done, grand)

        batch.extend(READERS[name](path, origin, progress=forward))
        offset += total
    return batch
