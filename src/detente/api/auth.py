"""Who is calling: the bearer-token dependency every operator route declares, one per role.

A :class:`RoleCheck` is a FastAPI dependency (an instance with a ``__call__``), so the OpenAPI
document can find which operations need a token and which role (``detente.api.contract``) from
the routes themselves, instead of from a list kept beside them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from detente.node.node import Node
from detente.node.tokens import ROLES, Principal, authenticate

__all__ = ["RoleCheck"]


class RoleCheck:
    """Authenticate ``Authorization: Bearer dtk_…`` and require ``role`` (or a higher one):
    401 without a valid token, 403 with a lower role."""

    def __init__(self, node: Node, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.node = node
        self.role = role

    def __call__(self, authorization: Annotated[str | None, Header(include_in_schema=False)] = None) -> Principal:
        who = authenticate(self.node.state, authorization, int(self.node.clock()))
        who.require(self.role)
        return who
