"""The synthetic-media desk of a node: label checks under both regimes, applying both labels as
this party, the party's C2PA trust anchor and labeling guidelines as records, shared watermark
detection keys, and takedown requests with their answers.

The party's C2PA signing chain is generated on first use into ``<node>/c2pa/`` (the leaf key
mode 0600) and its root published as a ``c2pa-trust-anchor`` record. A peer's published root is
a trust anchor for that peer's own Content Credentials only (the signer must name the peer), so
two parties that follow each other recognize each other's credentials as ``Trusted`` while
neither can vouch for anyone else's.

A party's own authority comes from its own log: the labeling guidelines that judge this node's
checks are the packaged ones and those this party published, in effect on the day; a peer's
guidelines are listed as that peer's and used only when asked to check as that peer would.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from detente.errors import ConfigError, DetenteError, LogNotFound, MalformedRecord
from detente.media.guidelines import Guideline, packaged_guidelines, parse_guideline
from detente.media.records import (
    C2PA_ANCHOR,
    LABEL_CHECK,
    LABEL_GUIDELINE,
    TAKEDOWN_REQUEST,
    TAKEDOWN_RESPONSE,
    WATERMARK_KEY,
    C2paTrustAnchor,
    LabelCheck,
    TakedownRequest,
    TakedownResponse,
    WatermarkKey,
)
from detente.node.desk import Desk
from detente.protocol.threads import Logged, evaluate
from detente.records.record import TLP
from detente.records.sealing import RESTRICTED
from detente.records.text import BilingualText

if TYPE_CHECKING:
    from detente.media.c2pa_credentials import PartyChain

__all__ = ["MediaDesk", "label_check_job"]


@functools.lru_cache(maxsize=4)
def _tokenizer_for(identity: str) -> Any:
    """The tokenizer whose file digest is ``identity``: the packaged all-MiniLM-L6-v2 one, if
    installed, with truncation and padding switched off (the shipped file truncates and pads to
    128 tokens, which would change the ids scored). Loaded once per identity; encoding is
    thread-safe."""
    from detente.incidents.embed import EmbedderUnavailable, find_model_dir
    from detente.media.watermark import tokenizer_identity

    try:
        path = find_model_dir() / "tokenizer.json"
        data = path.read_bytes()
    except (OSError, EmbedderUnavailable):
        data = b""
    if not data or tokenizer_identity(data) != identity:
        raise ConfigError(
            f"this node has no tokenizer with identity {identity}",
            hint="send the token ids instead of the text, or install the semantic extra if it is all-MiniLM-L6-v2's",
        )
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(data.decode())
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def label_check_job(
    data: bytes,
    mime: str | None,
    guidelines: list[Guideline],
    anchors_pem: str,
    peer_anchors: dict[str, str],
    situation: str,
) -> dict[str, Any]:
    """The pure part of a label check, plain data in and out (it runs in a worker process): the
    two-regime report as JSON data (``report``) and the summary a label-check record would hold
    (``summary``)."""
    from detente.media.label import check_labels

    report = check_labels(
        data, mime=mime, guidelines=guidelines, anchors_pem=anchors_pem, peer_anchors=peer_anchors, situation=situation
    )
    summary = LabelCheck(
        sha256=report.sha256,
        mime=report.mime,
        c2pa_state=report.c2pa.state if report.c2pa else None,
        c2pa_failure=report.c2pa.failure if report.c2pa else (),
        verdicts={v.regime: v.verdict for v in report.regimes},
        failed={v.regime: v.failed for v in report.regimes if v.failed},
        guidelines={v.regime: v.digest for v in report.regimes},
    )
    return {"report": report.as_dict(), "summary": summary.model_dump(mode="json")}


class MediaDesk(Desk):
    def _of_type(self, record_type: str) -> list[Logged]:
        """The records of a type in every log this node holds, malformed ones skipped."""
        return self.well_formed(record_type)

    # --- C2PA chain and anchors -------------------------------------------------------------

    def chain(self) -> PartyChain:
        """This party's C2PA signing chain, generated on first use."""
        from detente.media.c2pa_credentials import PartyChain, make_party_chain

        folder = self.node.base / "c2pa"
        files = [folder / "root.pem", folder / "leaf.pem", folder / "leaf.key"]
        if all(f.exists() for f in files):
            return PartyChain(*(f.read_bytes() for f in files))
        chain = make_party_chain(self.node.identity.name)
        folder.mkdir(mode=0o700, exist_ok=True)
        for f, data in zip(files, (chain.root_pem, chain.leaf_pem, chain.leaf_key_pem), strict=True):
            fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if f.suffix == ".key" else 0o644)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        return chain

    def publish_anchor(self) -> dict[str, Any]:
        """Publish this party's C2PA root as a record (once; again only if the root changed)."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        root = self.chain().root_pem
        cert = x509.load_pem_x509_certificate(root)
        digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
        for item in self._of_type(C2PA_ANCHOR):
            if item.origin == self.node.identity.name and item.record.body.get("sha256") == digest:
                return {"origin": item.origin, "index": item.index, "leaf_hash": item.leaf_hash, "sha256": digest}
        body = C2paTrustAnchor(certificate_pem=root.decode(), sha256=digest, subject=cert.subject.rfc4514_string())
        return self._placed(self._append(C2PA_ANCHOR, body.model_dump()), sha256=digest)

    def anchors(self) -> list[dict[str, Any]]:
        """Every C2PA trust anchor published in the logs this node holds, newest first, with whom
        it vouches for: this party's own are anchors for every check; a peer's only for that
        peer's own Content Credentials."""
        me = self.node.identity.name
        return [
            {
                "party": x.origin,
                "index": x.index,
                "sha256": x.record.body["sha256"],
                "subject": x.record.body.get("subject", ""),
                "vouches_for": "any signer" if x.origin == me else x.origin,
            }
            for x in reversed(self._of_type(C2PA_ANCHOR))
        ]

    def anchors_pem(self) -> str:
        """This party's own trust anchors: its C2PA root and the roots it published itself."""
        me = self.node.identity.name
        own = self.chain().root_pem.decode() if (self.node.base / "c2pa" / "root.pem").exists() else ""
        return own + "".join(
            str(x.record.body["certificate_pem"]) for x in self._of_type(C2PA_ANCHOR) if x.origin == me
        )

    def peer_anchors(self) -> dict[str, str]:
        """Each peer's published roots (log origin → PEM): anchors for that peer's credentials only."""
        out: dict[str, str] = {}
        for x in self._of_type(C2PA_ANCHOR):
            if x.origin != self.node.identity.name:
                out[x.origin] = out.get(x.origin, "") + str(x.record.body["certificate_pem"])
        return out

    # --- guidelines, check, apply -----------------------------------------------------------

    def _published(self) -> list[tuple[Logged, Guideline]]:
        out = []
        for x in self._of_type(LABEL_GUIDELINE):
            try:
                out.append((x, parse_guideline(x.record.body)))
            except DetenteError:
                continue
        return out

    def _standing(self, x: Logged, g: Guideline, whose: str, today: date) -> str:
        """Why a published guideline does not judge checks made for ``whose`` (empty: it does)."""
        if x.origin != whose:
            return f"published by {x.origin}: shown as that party's, not used for {whose}'s checks"
        if g.party not in self.names_of(x.origin):
            return f"names party {g.party!r} but was signed by {x.origin}: ignored"
        if g.effective > today:
            return f"effective only from {g.effective.isoformat()}"
        return ""

    def guidelines(self, as_party: str | None = None) -> list[Guideline]:
        """The guidelines that judge this party's checks (the checker uses the newest per regime):
        the packaged ones, and those this party published in its own log that name it as their
        party and are in effect today. ``as_party``: a peer's instead of this party's own."""
        whose = self.node.identity.name if as_party is None else self._party_origin(as_party)
        today = self._now().date()
        own = [g for x, g in self._published() if not self._standing(x, g, whose, today)]
        return packaged_guidelines() + own

    def all_guidelines(self) -> list[dict[str, Any]]:
        """Every guideline this node knows, packaged and published, each with its digest, who
        published it (``from``: ``built-in`` or ``ORIGIN#INDEX``) and whether it judges this
        party's checks (``in_use``, with ``note`` saying why not)."""
        me, today = self.node.identity.name, self._now().date()
        out = [{**g.model_dump(mode="json"), "digest": g.digest(), "from": "built-in", "published_by": "built-in",
                "in_use": True, "note": ""} for g in packaged_guidelines()]  # fmt: skip
        for x, g in self._published():
            note = self._standing(x, g, me, today)
            out.append({**g.model_dump(mode="json"), "digest": g.digest(), "from": f"{x.origin}#{x.index}",
                        "published_by": x.origin, "in_use": not note, "note": note})  # fmt: skip
        return out

    def _party_origin(self, party: str) -> str:
        origin = self.origin_of(party)
        if origin is None:
            raise LogNotFound(
                f"no party {party!r} known to this node",
                hint="name this node or a pinned peer, by short name or log origin (detente peer list)",
            )
        return origin

    def publish_guideline(self, guideline: Guideline) -> dict[str, Any]:
        if guideline.party not in self.names_of(self.node.identity.name):
            raise MalformedRecord(
                f"the guideline names party {guideline.party!r}; this node publishes as {self.node.config.name}",
                hint=f"set party to {self.node.config.name!r} (or {self.node.identity.name!r})",
            )
        me = self.node.identity.name
        mine = packaged_guidelines() + [g for x, g in self._published() if x.origin == me]
        for g in mine:
            if (g.guideline_id, g.version) == (guideline.guideline_id, guideline.version) and g != guideline:
                raise MalformedRecord(
                    f"{guideline.guideline_id} version {guideline.version} already exists with other rules",
                    hint="publish the change as a new version",
                )
        seq = self._append(LABEL_GUIDELINE, guideline.model_dump(mode="json"))
        return self._placed(seq, digest=guideline.digest())

    def check(
        self,
        data: bytes,
        mime: str | None = None,
        extra_anchors: str = "",
        *,
        record: bool = False,
        as_party: str | None = None,
        situation: str = "unknown",
        compute: Callable[..., Any] | None = None,
    ) -> dict[str, Any]:
        """The two-regime report, judged by this party's guidelines (``as_party``: a peer's); with
        ``record``, its summary is also logged as a label-check record (the file itself never is).
        Trust anchors: this party's own (and ``extra_anchors``), and each peer's root for that
        peer's own credentials. ``situation``: the service that made the content, which decides
        whether China's explicit label is owed (:mod:`detente.media.explicit_duty`). ``compute``
        runs the pure part, :func:`label_check_job` (the API: in a worker process,
        :meth:`detente.api.heavy.HeavyWork.compute`); by default it is called here."""
        if record and as_party is not None:
            raise MalformedRecord(
                "a check as another party would judge it is not recorded", hint="drop as_party to record"
            )
        whose = self._party_origin(as_party) if as_party is not None else None
        job = (
            data,
            mime,
            self.guidelines(as_party),
            self.anchors_pem() + extra_anchors,
            self.peer_anchors(),
            situation,
        )
        done = compute(label_check_job, *job) if compute is not None else label_check_job(*job)
        out: dict[str, Any] = done["report"]
        if whose is not None:
            out["as_party"] = whose
        if record:
            out["recorded"] = self._placed(self._append(LABEL_CHECK, done["summary"]))
        return out

    def _tsa_url(self) -> str | None:
        return self.node.config.c2pa_tsa_url or None

    def apply(self, data: bytes, label: Any, mime: str | None = None, source_type: str | None = None) -> bytes:
        from detente.media.label import apply_labels

        self.publish_anchor()
        kw = {"source_type": source_type} if source_type else {}
        return apply_labels(data, label, self.chain(), mime=mime, tsa_url=self._tsa_url(), **kw)

    def propagate(
        self, data: bytes, propagator: str, propagate_id: str, label: str | None = None, mime: str | None = None
    ) -> bytes:
        """Add a platform's ContentPropagator/PropagateID to the file's AIGC label and, when it has
        Content Credentials that validate here, a manifest signed as this party citing them."""
        from detente.media.propagate import propagate_labels

        self.publish_anchor()
        return propagate_labels(
            data,
            self.chain(),
            propagator=propagator,
            propagate_id=propagate_id,
            label=label,
            mime=mime,
            anchors_pem=self.anchors_pem(),
            tsa_url=self._tsa_url(),
        )

    # --- watermark keys ---------------------------------------------------------------------

    def share_key(self, key: WatermarkKey) -> dict[str, Any]:
        if any(
            x.record.body.get("key_id") == key.key_id
            for x in self._of_type(WATERMARK_KEY)
            if x.origin == self.node.identity.name
        ):
            raise MalformedRecord(f"this party already shared a key {key.key_id!r}", hint="choose a new key_id")
        return self._placed(self._append(WATERMARK_KEY, key.model_dump(mode="json")))

    def keys(self) -> list[dict[str, Any]]:
        return [{**x.record.body, "party": x.origin, "index": x.index} for x in self._of_type(WATERMARK_KEY)]

    def key(self, party: str, key_id: str) -> WatermarkKey:
        """The newest key ``key_id`` shared by ``party`` (its short name or log origin)."""
        origin = self.origin_of(party) or party
        for x in reversed(self._of_type(WATERMARK_KEY)):
            if x.origin == origin and x.record.body.get("key_id") == key_id:
                return WatermarkKey.model_validate(x.record.body)
        raise LogNotFound(
            f"no watermark key {key_id!r} from {party}", hint="list shared keys: GET /api/v1/watermark/keys"
        )

    def detect(
        self, party: str, key_id: str, *, token_ids: list[int] | None = None, text: str | None = None
    ) -> dict[str, Any]:
        """Test token ids, or text tokenized with the scheme's tokenizer, for a shared key's watermark.
        Text needs the tokenizer here: the packaged all-MiniLM-L6-v2 one (``semantic`` extra)."""
        from detente.media import watermark

        scheme = watermark.WatermarkScheme.model_validate(self.key(party, key_id).scheme)
        party = self.origin_of(party) or party
        if token_ids is not None:
            found = watermark.detect(token_ids, scheme)
        elif text is not None:
            found = watermark.detect_text(text, scheme, _tokenizer_for(scheme.tokenizer))
        else:
            raise MalformedRecord("nothing to test", hint="send token_ids or text")
        return {"party": party, "key_id": key_id, **found.model_dump(mode="json")}

    # --- takedowns --------------------------------------------------------------------------

    def request_takedown(
        self,
        to: str,
        request: TakedownRequest,
        text: BilingualText,
        *,
        tlp: TLP = TLP.CLEAR,
        sendable: Callable[[TLP, tuple[str, ...]], None] | None = None,
    ) -> dict[str, Any]:
        """Ask ``to`` to act on content its platforms host. A TLP:AMBER, AMBER+STRICT or RED request
        is sealed to ``to`` (``docs/sealed.md``): ``sendable`` (the SealDesk's check) refuses it
        before anything is signed when ``to`` published no encryption key."""
        if to == self.node.identity.name:
            raise MalformedRecord("a takedown request goes to another party", hint="name the peer's log origin")
        if self.node.peer_by_origin(to) is None:
            raise MalformedRecord(f"{to} is not a peer of this node", hint="detente peer add")
        if tlp in RESTRICTED:
            if sendable is None:
                raise MalformedRecord(f"this node cannot seal a {tlp.value} takedown request", hint="mark it TLP:CLEAR")
            sendable(tlp, (to,))
        seq = self._append(TAKEDOWN_REQUEST, request.model_dump(mode="json"), to=(to,), text=text, tlp=tlp)
        return self._placed(seq, tlp=tlp.value)

    def respond(
        self, origin: str, index: int, response: TakedownResponse, text: BilingualText | None
    ) -> dict[str, Any]:
        items = self.node.logged_at(origin, index)
        if not items or items[0].record.type != TAKEDOWN_REQUEST:
            raise LogNotFound(f"no takedown request at {origin}#{index}", hint="list them: detente takedown list")
        seq = self.node.reply(origin, index, TAKEDOWN_RESPONSE, response.model_dump(mode="json"), text)
        return self._placed(seq)

    def _readable(self, item: Logged) -> tuple[Logged, dict[str, Any]]:
        """A takedown record as this view shows it: a sealed one opened when this node may show it
        (``tlp``), else its public frame with ``sealed_problem`` saying why (never an error)."""
        if item.record.sealed is None:
            return item, {}
        marking = {"tlp": item.record.tlp.value}
        try:
            return self.opened(item), marking
        except DetenteError as exc:
            return item, marking | {"sealed_problem": exc.message}

    def takedowns(self) -> list[dict[str, Any]]:
        """Every takedown request this party sent or received, with its answer and clocks."""
        me = self.node.identity.name
        records = self.protocol_records()
        answers: dict[tuple[str, int], list[Logged]] = {}
        for x in records:
            if x.record.type == TAKEDOWN_RESPONSE:
                for ref in x.record.refs:
                    answers.setdefault((ref.origin, ref.index), []).append(x)
        threads = {
            (t.subject.origin, t.subject.index): t
            for t in evaluate(records, self.node.agreement, self._now(), me).threads
            if t.subject.record.type == TAKEDOWN_REQUEST
        }
        out = []
        for (origin, index), thread in threads.items():
            if me != origin and me not in thread.subject.record.to:
                continue
            subject, sealed = self._readable(thread.subject)
            rec = subject.record
            responses = []
            for a in answers.get((origin, index), []):
                if a.origin in rec.to:
                    answer, answer_sealed = self._readable(a)
                    responses.append({**answer.record.body, "party": a.origin, "index": a.index,
                                      "issued": a.record.issued.isoformat(), **answer_sealed})  # fmt: skip
            out.append(
                {
                    "origin": origin,
                    "index": index,
                    "from": origin,
                    "to": list(rec.to),
                    "issued": rec.issued.isoformat(),
                    "incoming": me in rec.to,
                    "text": rec.text.model_dump(mode="json") if rec.text else None,
                    **rec.body,
                    **sealed,
                    "states": {p: thread.state(p).value for p in rec.to},
                    "due": {o.party + ":" + o.kind: o.due.isoformat() for o in thread.obligations},
                    "responses": responses,
                }
            )
        out.sort(key=lambda t: str(t["issued"]), reverse=True)
        return out
