"""The synthetic-media desk of a node: label checks under both regimes, applying both labels as
this party, the party's C2PA trust anchor and labeling guidelines as records, shared watermark
detection keys, and takedown requests with their answers.

The party's C2PA signing chain is generated on first use into ``<node>/c2pa/`` (the leaf key
mode 0600) and its root published as a ``c2pa-trust-anchor`` record; every anchor published in
any followed log is a trust anchor for this node's checks, so two parties that follow each other
recognize each other's Content Credentials as ``Trusted``.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

from detente.errors import ConfigError, LogNotFound, MalformedRecord
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
from detente.records.text import BilingualText

if TYPE_CHECKING:
    from detente.media.c2pa_credentials import PartyChain

__all__ = ["MediaDesk"]


def _tokenizer_for(identity: str) -> Any:
    """The tokenizer whose file digest is ``identity``: the packaged all-MiniLM-L6-v2 one, if installed."""
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

    return Tokenizer.from_str(data.decode())


class MediaDesk(Desk):
    def _of_type(self, record_type: str) -> list[Logged]:
        return [x for x in self.node.all_records() if x.record.type == record_type]

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
        """Every C2PA trust anchor published in the logs this node holds, newest first."""
        return [
            {
                "party": x.origin,
                "index": x.index,
                "sha256": x.record.body["sha256"],
                "subject": x.record.body["subject"],
            }
            for x in reversed(self._of_type(C2PA_ANCHOR))
        ]

    def anchors_pem(self) -> str:
        own = self.chain().root_pem.decode() if (self.node.base / "c2pa" / "root.pem").exists() else ""
        return own + "".join(str(x.record.body["certificate_pem"]) for x in self._of_type(C2PA_ANCHOR))

    # --- guidelines, check, apply -----------------------------------------------------------

    def guidelines(self) -> list[Guideline]:
        """The packaged guidelines and every one published as a record (the checker uses the
        newest per regime)."""
        published = [parse_guideline(x.record.body) for x in self._of_type(LABEL_GUIDELINE)]
        return packaged_guidelines() + published

    def publish_guideline(self, guideline: Guideline) -> dict[str, Any]:
        for g in self.guidelines():
            if (g.guideline_id, g.version) == (guideline.guideline_id, guideline.version) and g != guideline:
                raise MalformedRecord(
                    f"{guideline.guideline_id} version {guideline.version} already exists with other rules",
                    hint="publish the change as a new version",
                )
        seq = self._append(LABEL_GUIDELINE, guideline.model_dump(mode="json"))
        return self._placed(seq, digest=guideline.digest())

    def check(
        self, data: bytes, mime: str | None = None, extra_anchors: str = "", *, record: bool = False
    ) -> dict[str, Any]:
        """The two-regime report; with ``record``, its summary is also logged as a label-check record
        (the file itself never is)."""
        from detente.media.label import check_labels

        report = check_labels(
            data, mime=mime, guidelines=self.guidelines(), anchors_pem=self.anchors_pem() + extra_anchors
        )
        out = report.as_dict()
        if record:
            summary = LabelCheck(
                sha256=report.sha256,
                mime=report.mime,
                c2pa_state=report.c2pa.state if report.c2pa else None,
                c2pa_failure=report.c2pa.failure if report.c2pa else (),
                verdicts={v.regime: v.verdict for v in report.regimes},
                failed={v.regime: v.failed for v in report.regimes if v.failed},
                guidelines={v.regime: v.digest for v in report.regimes},
            )
            out["recorded"] = self._placed(self._append(LABEL_CHECK, summary.model_dump(mode="json")))
        return out

    def apply(self, data: bytes, label: Any, mime: str | None = None, source_type: str | None = None) -> bytes:
        from detente.media.label import apply_labels

        self.publish_anchor()
        kw = {"source_type": source_type} if source_type else {}
        return apply_labels(data, label, self.chain(), mime=mime, **kw)

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
        return [{"party": x.origin, "index": x.index, **x.record.body} for x in self._of_type(WATERMARK_KEY)]

    def key(self, party: str, key_id: str) -> WatermarkKey:
        for x in reversed(self._of_type(WATERMARK_KEY)):
            if x.origin == party and x.record.body.get("key_id") == key_id:
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
        if token_ids is not None:
            found = watermark.detect(token_ids, scheme)
        elif text is not None:
            found = watermark.detect_text(text, scheme, _tokenizer_for(scheme.tokenizer))
        else:
            raise MalformedRecord("nothing to test", hint="send token_ids or text")
        return {"party": party, "key_id": key_id, **found.model_dump(mode="json")}

    # --- takedowns --------------------------------------------------------------------------

    def request_takedown(self, to: str, request: TakedownRequest, text: BilingualText) -> dict[str, Any]:
        if to == self.node.identity.name:
            raise MalformedRecord("a takedown request goes to another party", hint="name the peer's log origin")
        if self.node.peer_by_origin(to) is None:
            raise MalformedRecord(f"{to} is not a peer of this node", hint="detente peer add")
        seq = self._append(TAKEDOWN_REQUEST, request.model_dump(mode="json"), to=(to,), text=text)
        return self._placed(seq)

    def respond(
        self, origin: str, index: int, response: TakedownResponse, text: BilingualText | None
    ) -> dict[str, Any]:
        items = self.node.logged_at(origin, index)
        if not items or items[0].record.type != TAKEDOWN_REQUEST:
            raise LogNotFound(f"no takedown request at {origin}#{index}", hint="list them: detente takedown list")
        seq = self.node.reply(origin, index, TAKEDOWN_RESPONSE, response.model_dump(mode="json"), text)
        return self._placed(seq)

    def takedowns(self) -> list[dict[str, Any]]:
        """Every takedown request this party sent or received, with its answer and clocks."""
        me = self.node.identity.name
        records = self.node.all_records()
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
            rec = thread.subject.record
            if me != origin and me not in rec.to:
                continue
            responses = [
                {"party": a.origin, "index": a.index, "issued": a.record.issued.isoformat(), **a.record.body}
                for a in answers.get((origin, index), [])
                if a.origin in rec.to
            ]
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
                    "states": {p: thread.state(p).value for p in rec.to},
                    "due": {o.party + ":" + o.kind: o.due.isoformat() for o in thread.obligations},
                    "responses": responses,
                }
            )
        out.sort(key=lambda t: str(t["issued"]), reverse=True)
        return out
