"""Storage drivers behind small Protocols: SQLite (embedded default) and PostgreSQL."""
