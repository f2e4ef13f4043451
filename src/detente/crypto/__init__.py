"""Pure cryptographic formats: canonical JSON, keys, signed notes, DSSE, in-toto. No I/O."""
