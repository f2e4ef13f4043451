"""How a result names the model it ran: the subject of the in-toto Statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ModelIdentity"]


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """``kind``: ``oms`` (the harness hashed the weight files it ran), ``declared`` (an identifier
    the model's owner declares, hashed), or ``declared-oms`` (the OMS digest of a weights directory
    that the operator declares an endpoint serves; the harness cannot see the endpoint's files)."""

    name: str
    sha256: str
    kind: str
    adapter: str = ""  # the packaged model's key, so another party can load the same model
    annotations: tuple[tuple[str, str], ...] = ()  # further facts about the model, e.g. the prompt's digest

    def as_subject(self) -> dict[str, Any]:
        annotations = {"identity": self.kind} | ({"adapter": self.adapter} if self.adapter else {})
        annotations |= dict(self.annotations)
        return {"name": self.name, "digest": {"sha256": self.sha256}, "annotations": annotations}
