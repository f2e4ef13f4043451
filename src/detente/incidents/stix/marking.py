"""TLP 2.0 at the STIX export's entry (``docs/sealed.md``): an incident goes into a bundle only if
its reader may read its marking, and a link only if both its incidents do. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from detente.incidents.stix.export import IncidentEntry, LinkEntry
from detente.records.record import TLP

__all__ = ["within_tlp"]


def within_tlp(
    incidents: Sequence[IncidentEntry], links: Sequence[LinkEntry], readable: Callable[[TLP], bool]
) -> tuple[list[IncidentEntry], list[LinkEntry]]:
    """The incidents whose marking the reader may read (``readable``), and the links between two
    of them; the rest is left out, not redacted (a redacted incident still says it exists)."""
    kept = [e for e in incidents if readable(e[2])]
    keys = {(e[0], e[1].incident_id) for e in kept}
    joined = [e for e in links if {(e[1].source.origin, e[1].source.id), (e[1].target.origin, e[1].target.id)} <= keys]
    return kept, joined
