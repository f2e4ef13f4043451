"""C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs to trust and which witnesses
must cosign, as text.

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> <k|all|any> <member> ...
    quorum <name|none>

Members are witness names or earlier group names. :meth:`Policy.check` takes the set of witness
names whose cosignatures verified and raises :class:`~detente.errors.VerificationError` unless
the quorum is met ("the US witness AND the PRC witness AND one neutral auditor" is
``group neutral any A B`` / ``group all-of all us cn neutral`` / ``quorum all-of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from detente.crypto.keys import SIG_COSIGNATURE_V1, VerifierKey
from detente.errors import MalformedKey, MalformedPolicy, VerificationError

__all__ = ["Group", "Policy", "parse_policy"]


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    logs: list[tuple[VerifierKey, str | None]] = field(default_factory=list)
    witnesses: dict[str, tuple[VerifierKey, str | None]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str | None = None

    def satisfied(self, name: str, cosigned: frozenset[str]) -> bool:
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self.satisfied(m, cosigned) for m in group.members) >= group.threshold

    def check(self, cosigned: Iterable[str]) -> None:
        """Raise unless the witnesses in ``cosigned`` (by policy name) meet the quorum."""
        have = frozenset(cosigned)
        if self.quorum is None:
            return
        if not self.satisfied(self.quorum, have):
            raise VerificationError(
                f"witness quorum {self.quorum!r} not met (cosigned by: {', '.join(sorted(have)) or 'none'})",
                hint="wait for the missing witnesses to cosign, or check their keys in the policy",
            )


def parse_policy(text: str) -> Policy:
    policy = Policy()
    quorum_seen = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, *args = line.split()
        try:
            if word == "log" and len(args) in (1, 2):
                policy.logs.append((VerifierKey.parse(args[0]), args[1] if len(args) == 2 else None))
            elif word == "witness" and len(args) in (2, 3):
                _witness(policy, number, args)
            elif word == "group" and len(args) >= 3:
                _group(policy, number, args)
            elif word == "quorum" and len(args) == 1 and not quorum_seen:
                quorum_seen = True
                _quorum(policy, number, args[0])
            else:
                raise MalformedPolicy(f"line {number}: cannot read {line[:60]!r}")
        except MalformedKey as exc:
            raise MalformedPolicy(f"line {number}: {exc.message}") from None
    if not quorum_seen:
        raise MalformedPolicy("policy has no quorum line")
    return policy


def _new_name(policy: Policy, number: int, name: str) -> None:
    if name in policy.witnesses or name in policy.groups:
        raise MalformedPolicy(f"line {number}: {name!r} is defined twice")


def _witness(policy: Policy, number: int, args: list[str]) -> None:
    """``witness <name> <vkey> [<url>]``"""
    name = args[0]
    _new_name(policy, number, name)
    vk = VerifierKey.parse(args[1])
    if vk.sig_type != SIG_COSIGNATURE_V1:
        raise MalformedPolicy(f"line {number}: witness {name!r} needs a cosigner key (type 0x04)")
    policy.witnesses[name] = (vk, args[2] if len(args) == 3 else None)


def _group(policy: Policy, number: int, args: list[str]) -> None:
    """``group <name> <all|any|k> <member>...``, each member defined on an earlier line."""
    name, k, members = args[0], args[1], tuple(args[2:])
    _new_name(policy, number, name)
    for m in members:
        if m not in policy.witnesses and m not in policy.groups:
            raise MalformedPolicy(f"line {number}: unknown member {m!r} (define it first)")
    number_k = int(k) if k.isascii() and k.isdigit() and len(k) < 6 else -1  # never int() of 5,000 digits
    threshold = len(members) if k == "all" else 1 if k == "any" else number_k
    if not 1 <= threshold <= len(members):
        raise MalformedPolicy(f"line {number}: threshold {k!r} must be all, any or 1..{len(members)}")
    policy.groups[name] = Group(name, threshold, members)


def _quorum(policy: Policy, number: int, name: str) -> None:
    """``quorum <name>|none``"""
    if name != "none":
        if name not in policy.groups and name not in policy.witnesses:
            raise MalformedPolicy(f"line {number}: quorum names unknown {name!r}")
        policy.quorum = name
