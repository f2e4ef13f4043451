"""Pure transparency-log maths and formats: RFC 9162 hashing and proofs, C2SP tiles, checkpoints
and cosignatures. No I/O: hashes come in through callables, results go out as values."""
