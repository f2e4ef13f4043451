"""The node's HTTP surface: the public log (C2SP tlog-tiles), the witness (C2SP tlog-witness),
and the operator API (FastAPI, OpenAPI at /openapi.json)."""
