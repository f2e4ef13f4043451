"""Typed records: what a party says, as pydantic models with JSON Schema. No I/O."""
