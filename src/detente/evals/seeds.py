"""Perturbation seeds fixed by the log *after* a pre-registration, so that no result can be
computed before the party registers.

A pre-registered run replaces every perturbation's seed with one derived from the
pre-registration's leaf hash and the root of the party's log at the size that first contains it
(index + 1; every later checkpoint of that log commits to this tree):

    seed = first 6 bytes, big-endian, of SHA-256("detente eval seed v1\\n" ‖ leaf hash ‖ root)

Until the pre-registration is in the log neither value exists, so the perturbed inputs, and with
them the result, cannot be known in advance; any party mirroring the log recomputes the root and
so the seed. (48 bits: an integer that JSON and RFC 8785 carry exactly.)
"""

from __future__ import annotations

import hashlib

from detente.evals.suite import Suite

__all__ = ["derive_seed", "seeded_suite"]

_DOMAIN = b"detente eval seed v1\n"


def derive_seed(preregistration_leaf: bytes, root: bytes) -> int:
    """The seed of a run pre-registered at the leaf ``preregistration_leaf``, with ``root`` the
    root of the registering party's log at the pre-registration's index + 1."""
    if len(preregistration_leaf) != 32 or len(root) != 32:
        raise ValueError("a leaf hash and a tree root are 32 bytes each")
    return int.from_bytes(hashlib.sha256(_DOMAIN + preregistration_leaf + root).digest()[:6], "big")


def seeded_suite(suite: Suite, seed: int) -> Suite:
    """``suite`` with every perturbation's seed replaced by ``seed`` (each perturbation still
    draws its own stream: the seed is hashed with the perturbation's name and the text)."""
    perturbations = tuple(p.model_copy(update={"seed": seed}) for p in suite.perturbations)
    return Suite.model_validate(
        suite.model_dump(mode="json") | {"perturbations": [p.model_dump(mode="json") for p in perturbations]}
    )
