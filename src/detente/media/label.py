"""The two-regime label check, and applying both labels in the order that keeps both valid.

:func:`check_labels` reads a file's C2PA Content Credentials (:mod:`.c2pa_credentials`) and
China's implicit AIGC label (:mod:`.containers`), or for text its explicit label
(:mod:`.explicit`), then evaluates every rule of each regime's guideline and gives a verdict per
regime that names the rules the file fails. China's explicit-label duty depends on the service
that made the content (Art. 4 of the Measures), which the checker declares as a ``situation``
(:mod:`.explicit_duty`); undeclared, that duty is reported as not judged. :func:`apply_labels`
writes China's label first and signs the C2PA manifest second, so the manifest's hard binding
covers the label: writing the label after signing would break the manifest
(``assertion.dataHash.mismatch``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from detente.errors import MalformedError, MalformedJSON, MalformedMedia
from detente.media import containers, explicit, explicit_duty, provenance
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import (
    AI_SOURCE_TYPES,
    IPTC_SOURCE_TYPE,
    C2paReport,
    PartyChain,
    new_manifest_label,
    read_c2pa,
    read_c2pa_trusting,
    sign_c2pa,
)
from detente.media.guidelines import Guideline, LabelRule, packaged_guidelines

__all__ = [
    "MAX_MEDIA_BYTES",
    "LabelReport",
    "RegimeVerdict",
    "RuleOutcome",
    "apply_labels",
    "check_labels",
    "kind_of",
    "sign_checked",
]

MAX_MEDIA_BYTES = 64 * 1024 * 1024
_C2PA_CHECKS = ("c2pa-manifest", "c2pa-valid", "c2pa-trusted", "c2pa-ai-source-type")
_BROKEN = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch")


def kind_of(mime: str) -> str:
    """The guideline's media kind for a media type."""
    if mime.startswith("text/"):
        return "text"
    if mime == "application/pdf":
        return "document"
    head = mime.split("/", 1)[0]
    return head if head in ("image", "video", "audio") else "document"


@dataclass(frozen=True)
class RuleOutcome:
    rule_id: str
    check: str
    level: str
    outcome: str
    """``pass``, ``fail``, ``not-applicable`` (the rule does not cover this kind of media, or the
    declared situation owes no such label) or ``not-judged`` (whether the label is owed depends on a
    situation that was not declared)."""
    detail: str
    title_en: str
    title_zh: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "check": self.check,
            "level": self.level,
            "outcome": self.outcome,
            "detail": self.detail,
            "title": {"en": self.title_en, "zh": self.title_zh},
            "source": self.source,
        }


@dataclass(frozen=True)
class RegimeVerdict:
    regime: str
    guideline_id: str
    version: str
    digest: str
    verdict: str
    """``pass`` (every applicable ``must`` rule passes), ``fail`` (one fails), ``not-judged`` (none
    fails, but one could not be judged), or ``not-applicable``."""
    rules: tuple[RuleOutcome, ...]

    @property
    def failed(self) -> list[str]:
        return [r.rule_id for r in self.rules if r.outcome == "fail" and r.level == "must"]

    @property
    def warnings(self) -> list[str]:
        return [r.rule_id for r in self.rules if r.outcome == "fail" and r.level == "should"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "guideline": {"id": self.guideline_id, "version": self.version, "digest": self.digest},
            "verdict": self.verdict,
            "failed": self.failed,
            "warnings": self.warnings,
            "rules": [r.as_dict() for r in self.rules],
        }


@dataclass(frozen=True)
class LabelReport:
    sha256: str
    mime: str
    kind: str
    size: int
    c2pa: C2paReport | None
    aigc: dict[str, Any] | None
    explicit: dict[str, Any] | None
    regimes: tuple[RegimeVerdict, ...] = field(default=())
    duty: explicit_duty.ExplicitDuty = field(default_factory=explicit_duty.duty_for)
    """China's explicit-label duty in the declared situation."""

    def perceivable(self) -> dict[str, Any]:
        """Whether a visible or audible label was checked: for text, its explicit notice; for images,
        audio and video, never (detente reads metadata, not pixels or sound), and the report says so
        rather than letting a pass on metadata read as a pass on what a person sees or hears."""
        if self.kind == "text":
            return {"checked": True, "note": "the text's explicit notice was checked / 已检查文本显式标识"}
        what = {"image": "visible", "video": "visible or audible", "audio": "audible"}.get(self.kind, "perceivable")
        return {
            "checked": False,
            "note": f"a {what} label (GB 45438 explicit label, a mark a person notices) was NOT checked: detente "
            "reads the file's metadata, not its pixels or sound; check by eye or ear / 未检查显式标识（仅读元数据）",
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "mime": self.mime,
            "kind": self.kind,
            "size": self.size,
            "c2pa": None if self.c2pa is None else self.c2pa.as_dict(),
            "aigc": self.aigc,
            "explicit": self.explicit,
            "explicit_duty": self.duty.as_dict(self.kind),
            "perceivable": self.perceivable(),
            "regimes": [v.as_dict() for v in self.regimes],
        }


def _latest(guidelines: list[Guideline]) -> dict[str, Guideline]:
    """The newest guideline per regime (by effective date, then version)."""
    out: dict[str, Guideline] = {}
    for g in guidelines:
        have = out.get(g.regime)
        if have is None or (g.effective, g.version) > (have.effective, have.version):
            out[g.regime] = g
    return out


def _text_rules(rule: LabelRule) -> list[str]:
    return rule.params.get("text_rule") or ["cn-gb45438-2025/text"]


def _explicit_dict(check: explicit.ExplicitLabelCheck) -> dict[str, Any]:
    return {
        "rule": check.rule.id,
        "passed": check.passed,
        "match": check.match,
        "where": check.where,
        "requirements": [
            {"requirement": q.requirement, "passed": q.passed, "detail": q.detail} for q in check.requirements
        ],
    }


def _judge(
    rule: LabelRule,
    kind: str,
    c2pa: C2paReport | None,
    aigc: AigcLabel | None,
    text: str | None,
    unread: str = "",
    duty: explicit_duty.ExplicitDuty | None = None,
) -> RuleOutcome:
    """One rule's outcome; ``duty``: China's explicit-label duty, for that regime's explicit rules."""
    if kind not in rule.applies_to:
        return _outcome(rule, None, f"the rule covers {', '.join(rule.applies_to)}, not {kind}")
    check = rule.check
    if check in _C2PA_CHECKS:
        return _outcome(rule, *_judge_c2pa(check, c2pa))
    if check == "explicit-text":
        if text is None:
            return _outcome(rule, False, "not text content")
        results = [explicit.check_text_label(text, explicit.TEXT_RULES[i]) for i in _text_rules(rule)]
        detail = "; ".join(f"{r.rule.id}: " + "; ".join(q.detail for q in r.requirements) for r in results)
        if duty is None:
            return _outcome(rule, all(r.passed for r in results), detail)
        return _scoped(rule, all(r.passed for r in results), detail, duty)
    return _outcome(rule, *_judge_aigc(rule, aigc, unread))


def _scoped(rule: LabelRule, ok: bool, detail: str, duty: explicit_duty.ExplicitDuty) -> RuleOutcome:
    """An explicit-label rule judged only where the declared situation owes the label (Art. 4)."""
    mark = f" {duty.mark()}" if duty.mark() else ""
    if duty.required is None:
        found = "the text carries a conforming label" if ok else "the text carries no conforming label"
        return _outcome(rule, None, f"{duty.note('text')} ({found}: {detail})", undecided=True)
    if not duty.required:
        return _outcome(rule, None, f"{duty.note('text')}{mark}")
    return _outcome(rule, ok, f"situation {duty.situation.id}{mark}: {detail}")


def _outcome(rule: LabelRule, ok: bool | None, detail: str, *, undecided: bool = False) -> RuleOutcome:
    verdict = ("not-judged" if undecided else "not-applicable") if ok is None else ("pass" if ok else "fail")
    return RuleOutcome(rule.rule_id, rule.check, rule.level, verdict, detail, rule.title.en, rule.title.zh, rule.source)


def _verdict(outcomes: tuple[RuleOutcome, ...]) -> str:
    musts = {o.outcome for o in outcomes if o.level == "must"}
    if "fail" in musts:
        return "fail"
    if "not-judged" in musts:
        return "not-judged"
    return "pass" if any(o.outcome not in ("not-applicable", "not-judged") for o in outcomes) else "not-applicable"


def _judge_c2pa(check: str, c2pa: C2paReport | None) -> tuple[bool, str]:
    """A C2PA check: a manifest, a valid one, a trusted one, or an AI digital source type."""
    if c2pa is None:
        return False, "C2PA does not cover this kind of file"
    present = c2pa.state not in ("absent", "remote")
    if check == "c2pa-manifest":
        return present, f"{c2pa.manifests} manifest(s)" if present else c2pa.detail
    if not present:
        return False, f"no manifest to check: {c2pa.detail}"
    if check == "c2pa-valid":
        ok = c2pa.state in ("Valid", "Trusted")
        return ok, f"state {c2pa.state}" + ("" if ok else f"; failure codes: {', '.join(c2pa.failure)}")
    if check == "c2pa-trusted":
        return c2pa.state == "Trusted", f"state {c2pa.state}; signer {c2pa.signature.get('issuer', '?')}"
    declared = [t.removeprefix(IPTC_SOURCE_TYPE) for t in c2pa.digital_source_types]
    ok = any(t in AI_SOURCE_TYPES for t in c2pa.digital_source_types)
    return ok, f"digital source type(s): {', '.join(declared) or 'none declared'}"


def _judge_aigc(rule: LabelRule, aigc: AigcLabel | None, unread: str) -> tuple[bool, str]:
    """An AIGC implicit-label check: present, its fields filled, its Label value allowed."""
    if aigc is None:
        return False, unread or "no AIGC implicit label in the file's metadata"
    if rule.check == "aigc-present":
        return True, "AIGC label present"
    values = aigc.to_dict()
    if rule.check == "aigc-fields":
        wanted = rule.params.get("fields", [])
        empty = [f for f in wanted if not str(values.get(f, "")).strip()]
        return not empty, f"empty: {', '.join(empty)}" if empty else f"filled: {', '.join(wanted)}"
    allowed = rule.params.get("values", ["1", "2", "3"])
    return values.get("Label") in allowed, f"Label={values.get('Label')!r}"


def _detect(data: bytes) -> str:
    """The media type from the magic bytes; UTF-8 without a known signature is text."""
    try:
        return containers.detect_format(data)
    except MalformedError as unknown:
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < 4090:  # not merely a multi-byte character cut at the sample's end
                raise unknown from None
        return "text/plain"


def _read_aigc(data: bytes, mime: str) -> tuple[containers.AigcFound | None, str, str]:
    """The file's AIGC label, why none could be read (``unread``), and the reason a label that is
    there does not conform (it then fails its regime; the check goes on)."""
    if not containers.supports(mime):
        supported = ", ".join(containers.SUPPORTED_MIME)
        return None, f"detente does not read AIGC labels in {mime} files (it does in {supported})", ""
    try:
        return containers.read_aigc(data, mime), "", ""
    except MalformedJSON as exc:
        return None, f"the AIGC label does not conform to GB 45438 Annex E: {exc.message}", exc.message


def check_labels(
    data: bytes,
    *,
    mime: str | None = None,
    guidelines: list[Guideline] | None = None,
    anchors_pem: str = "",
    peer_anchors: Mapping[str, str] | None = None,
    situation: str = explicit_duty.UNKNOWN,
) -> LabelReport:
    """Both regimes' labels on ``data``, each judged by its regime's newest guideline.
    ``anchors_pem``: the checking party's own trust anchors; ``peer_anchors``: each peer's
    published roots, which vouch only for that peer (:func:`.c2pa_credentials.read_c2pa_trusting`).
    ``situation``: the service that made the content, which decides whether China's explicit
    label is owed (:mod:`.explicit_duty`; ``unknown``: not judged)."""
    duty = explicit_duty.duty_for(situation)
    if len(data) > MAX_MEDIA_BYTES:
        raise MalformedMedia(
            f"the file is {len(data):,} bytes; the label check takes at most {MAX_MEDIA_BYTES:,}",
            hint="check a smaller rendition, or the file's first part for its metadata",
        )
    if not data:
        raise MalformedMedia("the file is empty", hint="give the file's bytes")
    mime = mime or _detect(data)
    kind = kind_of(mime)
    c2pa: C2paReport | None = None
    text: str | None = None
    found: containers.AigcFound | None = None
    unread = nonconforming = ""
    if kind == "text":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMedia("text content is not UTF-8", hint="convert the text to UTF-8 first") from None
    else:
        c2pa = read_c2pa_trusting(data, mime, anchors_pem=anchors_pem, peer_anchors=peer_anchors)
        found, unread, nonconforming = _read_aigc(data, mime)
    aigc = found.label if found is not None else None
    verdicts = []
    for regime, g in sorted(_latest(guidelines if guidelines is not None else packaged_guidelines()).items()):
        scope = duty if regime == "cn-aigc" else None
        outcomes = tuple(_judge(r, kind, c2pa, aigc, text, unread, scope) for r in g.rules)
        verdicts.append(RegimeVerdict(regime, g.guideline_id, g.version, g.digest(), _verdict(outcomes), outcomes))
    return LabelReport(
        sha256=hashlib.sha256(data).hexdigest(),
        mime=mime,
        kind=kind,
        size=len(data),
        c2pa=c2pa,
        aigc=(
            {"label": found.label.to_dict(), "where": str(found.location)}
            if found is not None
            else ({"error": nonconforming} if nonconforming else None)
        ),
        explicit=None if text is None else {"checks": [_explicit_dict(c) for c in explicit.check_text_labels(text)]},
        regimes=tuple(verdicts),
        duty=duty,
    )


def sign_checked(data: bytes, mime: str, chain: PartyChain, *, tsa_url: str | None = None, **kw: Any) -> bytes:
    """:func:`~.c2pa_credentials.sign_c2pa` with the manifest label chosen first, a stale XMP
    ``dcterms:provenance`` pointer rewritten to it (:mod:`.provenance`), and the result validated
    against ``chain``'s root: never hand back a file whose labels contradict each other."""
    label = new_manifest_label()
    pointed = provenance.set_provenance(data, mime, provenance.manifest_uri(label))
    signed = sign_c2pa(pointed, mime, chain, label=label, tsa_url=tsa_url, **kw)
    report = read_c2pa(signed, mime, anchors_pem=chain.root_pem.decode())
    broken = [c for c in report.failure if c in _BROKEN]
    if broken or report.active_manifest != label:
        raise MalformedMedia(
            f"the signed file does not validate: {', '.join(broken) or 'another manifest is active'}",
            hint="report this file",
        )
    return signed


def apply_labels(
    data: bytes,
    label: AigcLabel,
    chain: PartyChain,
    *,
    mime: str | None = None,
    source_type: str = IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia",
    title: str = "",
    anchors_pem: str = "",
    tsa_url: str | None = None,
) -> bytes:
    """China's implicit label first, then a C2PA manifest signed with ``chain`` over the result
    (carrying the same label as an informative assertion; time-stamped by ``tsa_url`` when given).
    A file that already has Content Credentials is refused: rewriting its metadata would
    invalidate them (:func:`.propagate.propagate_labels` adds a platform's fields to such a file
    under a new manifest that cites the old one)."""
    mime = mime or containers.detect_format(data)
    if kind_of(mime) == "text":
        raise MalformedMedia(
            "text carries an explicit label, not file metadata",
            hint="add the wording (e.g. 本文由人工智能生成 / AI-generated) to the text itself",
        )
    existing = read_c2pa(data, mime, anchors_pem=anchors_pem)
    if existing.state not in ("absent",):
        raise MalformedMedia(
            f"the file already carries Content Credentials (state {existing.state})",
            hint="label the original before it was signed, or add a platform's fields with: detente label propagate",
        )
    labelled = containers.write_aigc(data, label, mime)
    return sign_checked(
        labelled, mime, chain, source_type=source_type, title=title, aigc=label.to_dict(), tsa_url=tsa_url
    )
