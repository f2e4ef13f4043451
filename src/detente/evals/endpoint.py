"""A model behind an OpenAI-compatible chat-completions endpoint.

Each sample is one ``POST {url}/chat/completions`` with ``temperature: 0`` and one user message,
the suite's prompt with ``{text}`` replaced by the (perturbed) sample; the label is the reply's
text, stripped and lower-cased. The harness cannot hash a remote model's weights, so the result
names it by an identifier its operator declares (``identity: declared``, digest: SHA-256 of the
identifier), or by the OMS digest of the weights directory the operator declares the endpoint
serves (``identity: declared-oms``). The API key is read from an environment variable named
``DETENTE_EVAL_…`` and goes only into the ``Authorization`` header: it is never logged, put in an
error or recorded. Everything that can go wrong at the endpoint becomes a typed detente error.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from detente.errors import ConfigError, MalformedJSON, MalformedRecord, StoreUnavailable
from detente.evals.identity import ModelIdentity
from detente.evals.refusal import refusal_label

__all__ = ["API_KEY_ENV", "DEFAULT_PROMPTS", "LABELERS", "Endpoint", "HTTPModel", "endpoint_identity"]

API_KEY_ENV = r"^DETENTE_EVAL_[A-Z0-9_]{1,64}$"
_HEX64 = r"^[0-9a-f]{64}$"

DEFAULT_PROMPTS = {
    "langid-robustness": (
        "Which language is the following text written in? Answer with its two-letter ISO 639-1 code "
        "only, for example en or zh.\n\nText: {text}"
    ),
    "zh-sentiment-robustness": (
        "Is the sentiment of the following Chinese product review positive or negative? Answer with "
        "one word only: pos or neg.\n\nReview: {text}"
    ),
    "en-sentiment-consistency": (
        "Is the sentiment of the following text positive, negative or neutral? Answer with one word "
        "only: pos, neg or neu.\n\nText: {text}"
    ),
    "refusal-consistency-en-zh": "{text}",  # the request itself; the reply is labelled refuse/comply
}
LABELERS: dict[str, Callable[[str], str]] = {"refusal-consistency-en-zh": refusal_label}
"""Suites whose label is read from the whole reply (not the reply itself, lower-cased)."""


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http(s) URL", hint="the API's base URL, e.g. http://127.0.0.1:8000/v1")
    if parts.username or parts.password:
        raise ConfigError(
            "the endpoint URL carries credentials", hint="drop them from the URL; pass the key with api_key_env"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"the endpoint URL {url!r} has a query or fragment", hint="e.g. http://127.0.0.1:8000/v1")
    return url.rstrip("/")


def endpoint_identity(
    model_id: str, model: str, prompt: str, *, weights_sha256: str = "", url: str = ""
) -> ModelIdentity:
    annotations = (("endpoint_model", model), ("prompt_sha256", hashlib.sha256(prompt.encode()).hexdigest()))
    if not model_id:  # no declared identifier: the URL and served name stand for it (library use only)
        name, digest = f"{model} at {url}", hashlib.sha256(f"{url}|{model}".encode()).hexdigest()
        return ModelIdentity(name, digest, "declared", annotations=annotations)
    if weights_sha256:
        return ModelIdentity(model_id, weights_sha256, "declared-oms", annotations=annotations)
    return ModelIdentity(model_id, hashlib.sha256(model_id.encode()).hexdigest(), "declared", annotations=annotations)


class HTTPModel:
    """An OpenAI-compatible chat-completions endpoint. ``base_url`` ends before
    ``/chat/completions`` (e.g. ``http://127.0.0.1:8000/v1``); ``prompt`` gets ``{text}``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        prompt: str,
        *,
        api_key: str = "",
        timeout: float = 60,
        declared: str = "",
        weights_sha256: str = "",
        labeler: Callable[[str], str] | None = None,
    ) -> None:
        base = _check_url(base_url)
        if "{text}" not in prompt:
            raise ConfigError("the prompt has no {text} for the sample", hint="e.g. 'Label: {text}'")
        self.identity = endpoint_identity(declared, model, prompt, weights_sha256=weights_sha256, url=base)
        self._url = base + "/chat/completions"
        self._model = model
        self._prompt = prompt
        self._timeout = timeout
        self._labeler = labeler
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def _ask(self, text: str) -> str:
        body = {
            "model": self._model,
            "temperature": 0,
            "messages": [{"role": "user", "content": self._prompt.replace("{text}", text)}],
        }
        try:
            resp = self._client.post(self._url, json=body)
        except httpx.TimeoutException:
            raise StoreUnavailable(
                f"the model endpoint {self._url} did not answer within {self._timeout:g} s",
                hint="raise the timeout (--timeout, or timeout in the run request), or check the endpoint's load",
            ) from None
        except httpx.HTTPError as exc:
            raise StoreUnavailable(
                f"cannot reach the model endpoint {self._url}: {exc.__class__.__name__}",
                hint="is the endpoint running, and is the URL its API base (e.g. http://127.0.0.1:8000/v1)?",
            ) from None
        status = resp.status_code
        if status in (401, 403):
            raise ConfigError(
                f"the model endpoint {self._url} refused the request ({status} {resp.reason_phrase})",
                hint="check the API key: name a DETENTE_EVAL_… environment variable that holds it (api_key_env)",
            )
        if status == 408 or status == 429 or status >= 500:
            raise StoreUnavailable(
                f"the model endpoint {self._url} answered {status} {resp.reason_phrase}",
                hint="the endpoint is overloaded or failing; retry later",
            )
        if not 200 <= status < 300:
            raise ConfigError(
                f"the model endpoint {self._url} answered {status} {resp.reason_phrase}",
                hint="check the URL (the API base, ending before /chat/completions) and the model name it serves",
            )
        try:
            reply = resp.json()
        except ValueError:
            raise MalformedJSON(
                f"the model endpoint {self._url} answered with something that is not JSON",
                hint="is the URL an OpenAI-compatible API base (e.g. http://127.0.0.1:8000/v1)?",
            ) from None
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise MalformedRecord(
                f"the model endpoint {self._url} did not answer in the chat-completions shape",
                hint="expected {'choices': [{'message': {'content': '…'}}]}",
            )
        if self._labeler is not None:
            return self._labeler(content)
        return content.strip().lower()

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self._ask(text) for text in texts]

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HTTPModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Endpoint(BaseModel):
    """How to reach a model endpoint for one run, and how the result names the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        max_length=2048, pattern=r"^https?://", description="the API base URL, e.g. http://127.0.0.1:8000/v1"
    )
    model: str = Field(min_length=1, max_length=256, description="the model name sent to the endpoint")
    model_id: str = Field(
        min_length=1, max_length=256, description="the identifier the result names the model by (declared)"
    )
    prompt: str | None = Field(
        default=None, max_length=16_384, description="prompt template, {text} is the sample (default: the suite's)"
    )
    api_key_env: str | None = Field(
        default=None,
        pattern=API_KEY_ENV,
        description="environment variable (DETENTE_EVAL_…) that holds the API key; never logged or recorded",
    )
    timeout: float = Field(default=60.0, gt=0, le=600, description="seconds per request")
    weights_sha256: str | None = Field(
        default=None,
        pattern=_HEX64,
        description="OMS digest of the weights the endpoint serves (detente eval digest DIR); names the model",
    )

    def prompt_for(self, suite_name: str) -> str:
        if self.prompt is not None:
            return self.prompt
        prompt = DEFAULT_PROMPTS.get(suite_name)
        if prompt is None:
            raise ConfigError(f"suite {suite_name} has no default prompt", hint="pass a prompt with {text} in it")
        return prompt

    def identity(self, suite_name: str) -> ModelIdentity:
        return endpoint_identity(
            self.model_id, self.model, self.prompt_for(suite_name), weights_sha256=self.weights_sha256 or ""
        )

    def open(self, suite_name: str, environ: Mapping[str, str] | None = None) -> HTTPModel:
        """The model for one run; the API key, if any, from ``environ`` (default: this process's)."""
        key = ""
        if self.api_key_env:
            key = (os.environ if environ is None else environ).get(self.api_key_env, "")
            if not key:
                raise ConfigError(
                    f"{self.api_key_env} is not set where the run happens",
                    hint="set it in the environment of the node (or of the CLI for an offline run) and retry",
                )
        return HTTPModel(
            self.url,
            self.model,
            self.prompt_for(suite_name),
            api_key=key,
            timeout=self.timeout,
            declared=self.model_id,
            weights_sha256=self.weights_sha256 or "",
            labeler=LABELERS.get(suite_name),
        )
