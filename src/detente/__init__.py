"""detente: verifiable confidence-building measures for AI between rival states.

Each party runs its own node. Everything a party says is a typed record, signed by the party and
appended to the party's own append-only Merkle log (RFC 9162 hashing, C2SP tlog-tiles layout,
C2SP checkpoints). See ``docs/`` for the architecture and formats.
"""

__version__ = "0.1.0"
