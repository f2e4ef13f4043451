"""When a thread needs evaluating again: the protocol loop's schedule (issue #26). Pure.

:func:`~detente.protocol.threads.evaluate` gives a party the actions it owes now. Given no new
record and no new evidence of time, a thread's due actions change only at a few instants: when
a reminder window opens (``reminder_at``), when a deadline passes (``due``), and when each
escalation step falls due (``due + after``), each for an obligation not yet met. The node stores
the next such instant with the thread and evaluates it again only then, or when a record
referring to it arrives; a thread whose times are still provisional (awaiting witnesses) is
evaluated on every turn, as its windows may move when the witnesses' cosignatures arrive.
"""

from __future__ import annotations

from datetime import datetime

from detente.protocol.agreement import Agreement
from detente.protocol.threads import Thread

__all__ = ["next_evaluation", "provisional"]


def provisional(thread: Thread) -> bool:
    """Whether a window of ``thread`` starts, or one of its obligations was met, at a time no
    witness has vouched for yet (it moves once one does)."""
    return any(not ob.start_witnessed or (ob.met_at is not None and not ob.met_witnessed) for ob in thread.obligations)


def next_evaluation(thread: Thread, agreement: Agreement, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which evaluating ``thread`` again may give a party
    different due actions, if no record referring to it is added; ``now`` while it is
    :func:`provisional`; ``None`` when only a new record can change it. ``agreement`` is the
    default one (the thread's own rules, where a commitment binds its parties, come first)."""
    if provisional(thread):
        return now
    rules = thread.rules or agreement
    later: list[datetime] = []
    for ob in thread.obligations:
        if ob.met_at is not None:
            continue  # met: whether late is settled, and it owes no reminder or escalation
        instants = [ob.reminder_at(rules.reminder_fraction), ob.due, *(ob.due + s.after for s in rules.escalation)]
        later.extend(t for t in instants if t > now)
    return min(later) if later else None
