"""A log origin as people and commands write it: in full (``us.detente.example/log``), as its host
part (``us.detente.example``, the form ``incident search`` prints), or as a pinned peer's short
name (``cn``). Every command that takes a key resolves its origin here, so a key any command
prints is a key every command accepts. Pure: the caller passes the origins it knows."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["resolve_origin"]


def resolve_origin(written: str, own: str, names: Mapping[str, str]) -> str:
    """The full origin ``written`` names among ``own`` and ``names`` (short name → origin: the
    party's own and its followed peers'); ``written`` itself when it names none of them or more
    than one (the caller then says it does not know that log)."""
    known = [own, *names.values()]
    if written in known:
        return written
    if written in names:
        return names[written]
    by_host = [origin for origin in dict.fromkeys(known) if origin.split("/")[0] == written]
    return by_host[0] if len(by_host) == 1 else written
