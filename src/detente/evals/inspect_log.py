"""UK AISI Inspect (``inspect-ai``) interoperability: Inspect JSON eval logs as detente runs.

**Ingest** (pure; needs nothing beyond detente's own dependencies): :func:`ingest_inspect_log`
reads an Inspect eval log written with ``log_format="json"`` and returns the
:class:`~detente.evals.run.RunResult` that :mod:`detente.evals.attest` signs. Inspect logs are
not byte-reproducible (ids, timestamps, timings and event uuids are random), so each sample is
canonicalised into a detente per-sample record::

    sample_record(sample=f"{id}#{epoch}", perturbation="clean", text=<input as text>,
                  output=<output.completion>, score=<1 for "C", 1 or true, else 0>)

in a fixed order (epoch, then sample id: integers numerically before strings), and the run is
committed to by the RFC 9162 root over those records. The same log ingested twice, and two runs
of the same task whose model gave the same outputs, give the same root.

The input as text is the sample's input when Inspect stored a string; a list of chat messages
becomes the RFC 8785 JSON of ``[{"role", "content"}]`` (text parts joined by newlines, any
other content part as its own canonical JSON). A target list of one string is that string, any
other list its canonical JSON.

The suite names the task: ``inspect-<task>`` (lower-cased, other characters than ``a-z0-9.-``
turned into ``-``), version = ``task_version``, a data set over the rows ``(id, input, target)``
(rows sorted by id), one ``clean`` variant, and harness ``{"name": "inspect_ai", "version": ...}``
from ``eval.packages``. The Inspect scorer, the epochs and any task arguments are written into
the description, which is part of the suite digest. Metric: ``accuracy:clean`` over every
(sample, epoch) with a Wilson 95 % interval; it equals Inspect's own ``accuracy`` for scorers
that give ``C``/``I`` (Inspect counts a partial ``P`` as 0.5, detente as 0).

The model is the subject ``eval.metadata["detente_model"]`` when the run came from
:func:`run_inspect_task`, else a declared identifier, the SHA-256 of ``eval.model``.

**Run** (optional, ``pip install inspect-ai``): :func:`run_inspect_task` registers an Inspect
model provider ``detente`` that wraps a detente :class:`~detente.evals.models.Model` (the text of
the last user message in, the label out, ``usage`` set so Inspect never fetches a tokenizer),
runs ``inspect_ai.eval(..., log_format="json")`` into a temporary directory, and returns the
log and its ingested result. :func:`dataset_task` builds an Inspect task from detente rows.
The ``.eval`` (zip) log format is not read: convert with ``inspect log convert --to json``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from detente.crypto.canonical import canonical_json
from detente.errors import ConfigError, MalformedJSON, MalformedRecord
from detente.evals.models import Model, ModelIdentity
from detente.evals.run import Metric, RunResult, merkle_root, sample_record
from detente.evals.suite import Dataset, Perturbation, Row, Suite
from detente.tlog.hashing import leaf_hash

__all__ = [
    "PROVIDER",
    "dataset_task",
    "ingest_inspect_log",
    "inspect_score",
    "run_inspect_task",
]

PROVIDER = "detente"  # the Inspect model provider: models are named "detente/<model name>"

_CONVERT = "write the log with log_format='json', or convert it: inspect log convert --to json <log> --output-dir <dir>"
_ZIP_MAGIC = b"PK\x03\x04"


# --- ingest ------------------------------------------------------------------------------------


def inspect_score(value: Any) -> int:
    """detente's 0/1 score for an Inspect score value: 1 for ``"C"``, ``1`` or ``True``, else 0."""
    if isinstance(value, (dict, list)):
        raise MalformedRecord(
            "a score value is a dict or list, not one verdict", hint="pass scorer= naming a scorer with scalar values"
        )
    return int(value == "C" or value is True or (type(value) in (int, float) and value == 1))


def _load(data: bytes | str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    if isinstance(data, os.PathLike):
        path = Path(data)
        if path.suffix == ".eval":
            raise MalformedRecord(f"{path.name} is an Inspect .eval (zip) log, which is not read", hint=_CONVERT)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MalformedRecord(f"cannot read Inspect log {path}: {exc.strerror}") from None
    if isinstance(data, bytes) and data.startswith(_ZIP_MAGIC):
        raise MalformedRecord("this is an Inspect .eval (zip) log, which is not read", hint=_CONVERT)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        obj = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedRecord(f"the Inspect log is not JSON: {exc}", hint=_CONVERT) from None
    if not isinstance(obj, dict):
        raise MalformedRecord("the Inspect log is not a JSON object", hint=_CONVERT)
    return obj


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise MalformedRecord(
            f"the Inspect log has no valid {where}{key}", hint="is this an Inspect eval log (log_format='json')?"
        )
    return value


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                parts.append(_canonical_text(part))
        return "\n".join(parts)
    raise MalformedRecord(f"a message's content is {type(content).__name__}, not text or a list of parts")


def _canonical_text(value: Any) -> str:
    try:
        return canonical_json(value).decode("utf-8")
    except MalformedJSON as exc:
        raise MalformedRecord(exc.message) from None


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return _canonical_text(
            [{"role": str(m.get("role", "")), "content": _content_text(m.get("content", ""))} for m in value]
        )
    raise MalformedRecord("a sample's input is neither text nor a list of chat messages")


def _target_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return value[0] if len(value) == 1 else _canonical_text(value)
    raise MalformedRecord("a sample's target is neither text nor a list of texts")


def _id_key(sample_id: int | str) -> tuple[int, int, str]:
    return (0, sample_id, "") if isinstance(sample_id, int) else (1, 0, sample_id)


def _suite_name(task: str) -> str:
    slug = re.sub(r"[^a-z0-9.]+", "-", task.lower()).strip("-.") or "task"
    return f"inspect-{slug}"[:64].rstrip("-.")


def _model_subject(ev: dict[str, Any]) -> dict[str, Any]:
    claimed = _obj(ev.get("metadata")).get("detente_model")
    if claimed is not None:
        name, sha = _obj(claimed).get("name"), _obj(_obj(claimed).get("digest")).get("sha256")
        annotations = _obj(claimed).get("annotations", {})
        if (
            not isinstance(name, str)
            or not isinstance(sha, str)
            or not re.fullmatch(r"[0-9a-f]{64}", sha)
            or not isinstance(annotations, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items())
        ):
            raise MalformedRecord("the log's eval.metadata.detente_model is not a model subject (name, digest.sha256)")
        return {"name": name, "digest": {"sha256": sha}} | ({"annotations": annotations} if annotations else {})
    name = _field(ev, "model", str, "eval.")
    return ModelIdentity(name, hashlib.sha256(name.encode()).hexdigest(), "declared").as_subject()


def _primary_scorer(log: dict[str, Any], ev: dict[str, Any]) -> str:
    for candidates in (_obj(log.get("results")).get("scores"), ev.get("scorers")):
        if isinstance(candidates, list) and candidates and isinstance(_obj(candidates[0]).get("name"), str):
            return str(candidates[0]["name"])
    raise MalformedRecord("the Inspect log names no scorer", hint="was the task run with score=False?")


def ingest_inspect_log(
    data: bytes | str | os.PathLike[str] | Mapping[str, Any], *, scorer: str | None = None
) -> RunResult:
    """The detente run an Inspect JSON eval log records (see the module docstring for the mapping).

    ``data`` is the log's bytes or text, its parsed object, or a path to a ``.json`` log;
    ``scorer`` picks one of the task's scorers (default: the first in ``results.scores``).
    Raises :class:`MalformedRecord` (with a hint) for anything that is not a complete,
    successful Inspect JSON log."""
    log = _load(data)
    ev, task, harness_version, samples = _header(log)
    scorer = scorer or _primary_scorer(log, ev)

    rows: dict[int | str, Row] = {}
    outcomes: dict[tuple[int, int | str], tuple[str, str, int]] = {}
    for n, s in enumerate(samples):
        sid, epoch, row, completion, value = _sample(n, s, scorer)
        if rows.setdefault(sid, row) != row:
            raise MalformedRecord(f"sample {sid!r} has different inputs or targets in different epochs")
        if (epoch, sid) in outcomes:
            raise MalformedRecord(f"sample {sid!r} epoch {epoch} appears twice")
        outcomes[(epoch, sid)] = (row.input, completion, inspect_score(value))
    if len({r.id for r in rows.values()}) != len(rows):
        raise MalformedRecord("two sample ids are the same text (an integer and a string)")

    records: list[bytes] = []
    for epoch, sid in sorted(outcomes, key=lambda k: (k[0], _id_key(k[1]))):
        text, completion, score = outcomes[(epoch, sid)]
        records.append(sample_record(f"{sid}#{epoch}", "clean", text, completion, score))
    correct = sum(o[2] for o in outcomes.values())
    leaves = [leaf_hash(r) for r in records]
    suite = _suite(ev, task, harness_version, scorer, [rows[k] for k in sorted(rows, key=_id_key)])
    metrics = {"accuracy:clean": Metric.of(correct, len(records))}
    return RunResult(suite, _model_subject(ev), records, leaves, merkle_root(leaves), metrics)


def _header(log: dict[str, Any]) -> tuple[dict[str, Any], str, str, list[Any]]:
    """A successful run's ``eval`` header, task name, inspect_ai version and samples."""
    status = log.get("status")
    if status != "success":
        error = log.get("error")
        detail = f": {error.get('message')}" if isinstance(error, dict) and error.get("message") else ""
        raise MalformedRecord(
            f"the Inspect run's status is {status!r}, not 'success'{detail}",
            hint="only a finished, successful run is a result; re-run the task (inspect eval-retry resumes it)",
        )
    ev = _field(log, "eval", dict, "")
    task = _field(ev, "task", str, "eval.")
    packages = _field(ev, "packages", dict, "eval.")
    harness_version = packages.get("inspect_ai")
    if not isinstance(harness_version, str) or not harness_version:
        raise MalformedRecord("the Inspect log does not say which inspect_ai wrote it (eval.packages.inspect_ai)")
    samples = log.get("samples")
    if not isinstance(samples, list) or not samples:
        raise MalformedRecord(
            "the Inspect log has no samples", hint="run with log_samples=True; a header-only log cannot be re-checked"
        )
    return ev, task, harness_version, samples


def _sample(n: int, s: Any, scorer: str) -> tuple[int | str, int, Row, str, Any]:
    """Sample ``n``'s id, epoch, data-set row, completion and score value (as Inspect wrote it)."""
    where = f"samples[{n}]."
    if not isinstance(s, dict):
        raise MalformedRecord(f"samples[{n}] is not an object")
    sid = s.get("id")
    if not isinstance(sid, (int, str)) or isinstance(sid, bool):
        raise MalformedRecord(f"samples[{n}] has no id (int or string)")
    epoch = _field(s, "epoch", int, where)
    if s.get("error"):
        raise MalformedRecord(
            f"sample {sid!r} epoch {epoch} ended in an error", hint="re-run the failed samples before ingesting"
        )
    text = _input_text(s.get("input"))
    target = _target_text(s.get("target", ""))
    output = _field(s, "output", dict, where)
    completion = output.get("completion", "")
    if not isinstance(completion, str):
        raise MalformedRecord(f"sample {sid!r} epoch {epoch}: output.completion is not text")
    scores = _field(s, "scores", dict, where)
    verdict = scores.get(scorer)
    if not isinstance(verdict, dict) or "value" not in verdict:
        raise MalformedRecord(
            f"sample {sid!r} epoch {epoch} has no score from scorer {scorer!r}",
            hint=f"scorers in this sample: {', '.join(map(str, scores)) or 'none'}",
        )
    try:
        row = Row(id=str(sid), input=text, target=target)
    except ValidationError as exc:
        raise MalformedRecord(f"sample {sid!r} cannot be a detente data-set row: {exc.errors()[0]['msg']}") from None
    return sid, epoch, row, completion, verdict["value"]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _suite(ev: dict[str, Any], task: str, harness_version: str, scorer: str, rows: list[Row]) -> Suite:
    origin = ev.get("task_registry_name") or task
    task_file = ev.get("task_file")
    source = f"inspect task {origin}" + (f" ({task_file})" if task_file else "")
    ds = _obj(ev.get("dataset"))
    ds_name = ds.get("name") if isinstance(ds.get("name"), str) and ds.get("name") else task
    if isinstance(ds.get("location"), str) and ds["location"] and ds["location"] != ds_name:
        source += f", data set {ds['location']}"
    epochs = _obj(ev.get("config")).get("epochs") or 1
    description = f"Inspect AI task {task!r}; scorer {scorer!r}; {epochs} epoch(s)"
    if ev.get("task_args"):
        args = _canonical_text(ev["task_args"])
        description += (
            f"; task_args {args if len(args) <= 1024 else 'sha256:' + hashlib.sha256(args.encode()).hexdigest()}"
        )
    try:
        data = Dataset(str(ds_name)[:128], rows, source[:1024])
        return Suite(
            name=_suite_name(task),
            version=str(ev.get("task_version", 0)),
            description=description[:4096],
            dataset=data.ref,
            task="inspect",
            perturbations=(Perturbation(name="clean", seed=0),),
            scorer=f"inspect:{scorer}"[:71]
            if re.fullmatch(r"[A-Za-z0-9_./-]{1,64}", str(scorer))
            else "inspect:custom",
            metrics=("accuracy",),
            harness={"name": "inspect_ai", "version": harness_version},
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise MalformedRecord(f"the Inspect task cannot be a detente suite: {err['loc']}: {err['msg']}") from None


# --- run (optional: inspect-ai) ----------------------------------------------------------------

_RUN_LOCK = threading.Lock()
_MODELS: dict[str, Model] = {}
_registered = False


def _inspect(module: str = "inspect_ai") -> Any:
    try:
        return import_module(module)
    except ImportError:
        raise ConfigError("running Inspect tasks needs the inspect-ai package", hint="pip install inspect-ai") from None


def _prompt(messages: Sequence[Any]) -> str:
    users = [m for m in messages if getattr(m, "role", "") == "user"]
    if not users:
        raise MalformedRecord("the Inspect task sent the model no user message")
    return str(users[-1].text)


def _register_provider() -> None:
    """Register the ``detente`` model provider with Inspect (once)."""
    global _registered
    if _registered:
        return
    im = _inspect("inspect_ai.model")
    base: Any = im.ModelAPI

    class DetenteModelAPI(base):  # type: ignore[misc]
        """A detente Model behind Inspect's model API: one label per generate call."""

        def __init__(
            self,
            model_name: str,
            base_url: str | None = None,
            api_key: str | None = None,
            config: Any = None,
            **model_args: Any,
        ) -> None:
            super().__init__(model_name, base_url, api_key, [], config if config is not None else im.GenerateConfig())
            model = _MODELS.get(model_name)
            if model is None:
                raise ConfigError(
                    f"no detente model {model_name!r} is being run",
                    hint="run detente models through detente.evals.inspect_log.run_inspect_task",
                )
            self._model = model

        async def generate(self, input: list[Any], tools: list[Any], tool_choice: Any, config: Any) -> Any:
            text = _prompt(input)
            label = self._model.predict([text])[0]
            output = im.ModelOutput.from_content(model=self.model_name, content=label)
            # Usage must be set: without it Inspect counts tokens with tiktoken, which downloads
            # its encoding (fails offline). The wrapped model has no tokenizer: words are counted.
            n_in, n_out = len(text.split()), len(label.split())
            output.usage = im.ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
            return output

    def detente() -> type:
        return DetenteModelAPI

    im.modelapi(name=PROVIDER)(detente)
    _registered = True


def dataset_task(
    rows: Sequence[Row],
    *,
    name: str,
    dataset_name: str = "",
    source: str = "",
    scorer: str = "match",
    version: int | str = 1,
) -> Any:
    """An Inspect ``Task`` over detente rows: each row a ``Sample(id, input, target)``, the solver
    ``generate()``, the scorer ``match(location="exact")`` (``scorer="match"``) or ``exact()``."""
    ia = _inspect()
    ds = _inspect("inspect_ai.dataset")
    solvers = _inspect("inspect_ai.solver")
    scorers = _inspect("inspect_ai.scorer")
    if scorer == "match":
        score = scorers.match(location="exact")
    elif scorer == "exact":
        score = scorers.exact()
    else:
        raise ConfigError(f"unknown scorer {scorer!r}", hint="match or exact")
    samples = [ds.Sample(id=r.id, input=r.input, target=r.target or "") for r in rows]
    dataset = ds.MemoryDataset(samples, name=dataset_name or name, location=source or None)
    return ia.Task(dataset=dataset, solver=solvers.generate(), scorer=score, name=name, version=version)


def _outside_any_event_loop(call: Callable[[], Any]) -> Any:
    """``call()``, on a thread of its own when this thread already runs an event loop (a caller in
    async code, or a library that left one marked running): Inspect starts a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detente-inspect") as pool:
        return pool.submit(call).result()


def run_inspect_task(
    task: Any,
    model: Model,
    *,
    epochs: int | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    **eval_args: Any,
) -> tuple[dict[str, Any], RunResult]:
    """Run an Inspect task (a ``Task``, or anything ``inspect_ai.eval`` takes) against a detente model.

    The model is served by the ``detente`` provider as ``detente/<model name>`` and named in the
    log's ``eval.metadata.detente_model``. The JSON log goes to ``log_dir`` (default: a temporary
    directory, removed afterwards). Returns the parsed log and :func:`ingest_inspect_log` of it.
    ``epochs`` (default: the task's own) and ``eval_args`` go to ``inspect_ai.eval`` (e.g.
    ``limit``, ``max_samples``)."""
    ia = _inspect()
    im = _inspect("inspect_ai.model")
    name = model.identity.name
    with _RUN_LOCK:
        _register_provider()
        _MODELS[name] = model
        try:
            with tempfile.TemporaryDirectory(prefix="detente-inspect-") as tmp:
                out = Path(log_dir) if log_dir is not None else Path(tmp)
                logs = _outside_any_event_loop(
                    lambda: ia.eval(
                        task,
                        model=im.get_model(f"{PROVIDER}/{name}", memoize=False),
                        epochs=epochs,
                        log_format="json",
                        log_dir=str(out),
                        display="none",
                        metadata={"detente_model": model.identity.as_subject()},
                        **eval_args,
                    )
                )
                if len(logs) != 1:
                    raise ConfigError(f"expected one Inspect log, got {len(logs)}", hint="run one task at a time")
                location = str(logs[0].location)
                path = Path(location.removeprefix("file://"))
                raw = path.read_bytes()
        finally:
            _MODELS.pop(name, None)
    log = _load(raw)
    return log, ingest_inspect_log(log)
