"""The sealed-records API (``docs/sealed.md``): this party's encryption keys, and reading and
disclosing what is sealed to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path

from detente.api.routes import MAX_INDEX, Routes
from detente.node.node import Node
from detente.node.tokens import Principal

__all__ = ["add_sealed_routes"]


def add_sealed_routes(app: FastAPI, node: Node, viewer: Any, officer: Any, admin: Any) -> None:
    routes = Routes(app, "sealed")

    @routes.create("/api/v1/keys/encryption")
    def rotate_encryption_key(who: Principal = admin) -> dict[str, Any]:
        """Make a new X25519 encryption key and publish it in this party's log (earlier keys are kept,
        so what was sealed to them stays readable here)."""
        return node.sealing.rotate()

    @routes.create("/api/v1/keys/encryption/{key_id}/revoke")
    def revoke_encryption_key(key_id: str, who: Principal = admin) -> dict[str, Any]:
        """Publish that peers must no longer seal to this party's key ``key_id`` (its private key is
        kept, so what was sealed to it stays readable here)."""
        return node.sealing.revoke(key_id)

    @routes.get("/api/v1/keys/encryption")
    def encryption_keys(who: Principal = viewer) -> dict[str, Any]:
        """The key each party's records are sealed to (from every followed log), and the IDs of the
        keys this node holds."""
        published = node.sealing.published()
        return {
            "published": {party: key_id for party, (key_id, _) in sorted(published.items())},
            "held": sorted(node.sealing.private_keys()),
        }

    @routes.get("/api/v1/records/{origin:path}/{index}/open")
    def open_sealed(
        origin: str, index: Annotated[int, Path(ge=0, le=MAX_INDEX)], who: Principal = viewer
    ) -> dict[str, Any]:
        """The content of a sealed record addressed to this party: TLP:AMBER for any role of this
        node, TLP:RED for officers and administrators only."""
        return node.sealing.open(origin, index, who.role)

    @routes.get("/api/v1/records/{origin:path}/{index}/disclosure")
    def disclose(
        origin: str, index: Annotated[int, Path(ge=0, le=MAX_INDEX)], who: Principal = officer
    ) -> dict[str, Any]:
        """A disclosure of a sealed record's content that anyone can check against the sender's
        signed commitment (``detente audit --verify-disclosure``). Handing it over breaks the TLP:
        that is the officer's decision."""
        return node.sealing.disclose(origin, index)
