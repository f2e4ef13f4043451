"""Recipients as an operator names them: a followed peer's short name (``cn``) becomes its log
origin before the record is checked and signed. Anything else is left as given, for the writer
to accept (a followed peer's origin) or refuse (:class:`~detente.errors.UnknownRecipient`)."""

from __future__ import annotations

from collections.abc import Iterable

from detente.node.node import Node

__all__ = ["resolve_recipients"]


def resolve_recipients(node: Node, names: Iterable[str]) -> tuple[str, ...]:
    """Each name as a log origin (short names of followed peers resolved), duplicates dropped."""
    by_name = {name: status.origin for name, status in node.peering.status.items() if name not in node.peering.bad}
    return tuple(dict.fromkeys(by_name.get(name, name) for name in names))
