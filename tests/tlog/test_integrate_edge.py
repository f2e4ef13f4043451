"""Integration refuses a right-edge hash tile shorter than its width says (a corrupt store)."""

from __future__ import annotations

import pytest

from detente.errors import MalformedTile
from detente.tlog.integrate import integrate
from detente.tlog.tiles import TileID


def test_a_short_edge_tile_is_refused() -> None:
    first = integrate(0, {}, [b"a", b"b", b"c"])
    edge = {TileID(-1, 0, 3): first.bundles[TileID(-1, 0, 3)], TileID(0, 0, 3): first.tiles[TileID(0, 0, 3)]}
    assert integrate(3, edge, [b"d"]).size == 4
    edge[TileID(0, 0, 3)] = edge[TileID(0, 0, 3)][:64]  # two hashes where the width says three
    with pytest.raises(MalformedTile, match="too short"):
        integrate(3, edge, [b"d"])
