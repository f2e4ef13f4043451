"""A node's configuration file (``detente.toml``), written by ``detente init``.

The model is the reference: every field has a default and a description, and
``docs/node.md`` is checked against it. Relative paths are relative to the file's folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detente._internal.urls import url_problem
from detente._internal.validation import describe_validation_error
from detente.errors import ConfigError
from detente.protocol.agreement import Agreement

__all__ = ["CONFIG_NAME", "NodeConfig", "load_agreement", "load_config"]

CONFIG_NAME = "detente.toml"


class NodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short party name, e.g. 'us' or 'cn'", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    origin: str = Field(description="the party's log origin and key name, e.g. 'us.detente.example/log'")
    key_file: str = Field(default="party.key", description="private key file (mode 0600)")
    store: str = Field(default="detente.db", description="SQLite path, or postgresql://host:port/db[#schema]")
    listen: str = Field(default="127.0.0.1:8441", description="host:port the node serves on")
    public_url: str = Field(
        default="", description="URL peers and auditors use to reach this node; default http://<listen>"
    )
    sync_interval: float = Field(
        default=30.0,
        gt=0,
        description="seconds between periodic pulls of each peer (fallback for missed pushes)",
    )
    peer_timeout: float = Field(default=10.0, gt=0, description="seconds before a request to a peer gives up")
    sync_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=65_536,
        description="bytes of a peer's new entries one sync may hold; past it the sync fails and nothing is mirrored",
    )
    sync_max_seconds: float = Field(
        default=300.0, gt=0, description="seconds one sync of a peer may take; past it nothing is mirrored"
    )
    agreement: str = Field(
        default="", description="JSON file with the agreement in force (deadlines, escalation); empty: the defaults"
    )
    webhook_url: str = Field(
        default="",
        description="URL to POST operator alerts to, as DSSE envelopes signed by the party key; empty: log only",
    )
    smtp: str = Field(default="", description="SMTP server for e-mail alerts, e.g. smtp://127.0.0.1:25; empty: none")
    alert_email_to: str = Field(default="", description="operators' address for e-mail alerts")
    alert_email_from: str = Field(
        default="", description="sender address of e-mail alerts (default detente@<origin host>)"
    )
    early_warning_to: list[str] = Field(
        default_factory=list,
        description="log origins warned by a hotline message when a critical-infrastructure incident is filed; "
        "empty: every peer",
    )
    protocol_interval: float = Field(
        default=5.0, gt=0, description="seconds between evaluations of open threads (misses, escalation, reminders)"
    )
    publish_dir: str = Field(
        default="",
        description="folder to keep the log's public side in as static files (detente publish), updated after every "
        "publish; empty: none",
    )
    public_read_url: str = Field(
        default="",
        pattern=r"^$|^https?://",
        description="where peers, witnesses and auditors read this log if not from the node: the URL serving "
        "publish_dir (a web server, CDN or object store); empty: the node itself",
    )
    max_batch: int = Field(default=1000, ge=1, le=10_000, description="records per log batch")
    max_wait: float = Field(default=0.01, ge=0, description="seconds a batch waits to fill before it is appended")
    max_body_bytes: int = Field(
        default=4 << 20,
        ge=65_536,
        description="bytes of an operator request body (JSON) the API reads; past it 413 before more is read",
    )
    max_upload_bytes: int = Field(
        default=64 << 20,
        ge=65_536,
        le=64 << 20,
        description="bytes of a file uploaded to /api/v1/labels/check and /apply (at most 64 MiB); "
        "past it 413 before more is read",
    )
    c2pa_tsa_url: str = Field(
        default="",
        pattern=r"^$|^https?://",
        description="an RFC 3161 time-stamp authority the node asks to time-stamp each C2PA signature it makes "
        "(label apply and propagate), so it stays valid after its certificate expires; empty: no time-stamp",
    )
    max_import_bytes: int = Field(
        default=64 << 20,
        ge=65_536,
        description="bytes of a bulk import (/api/v1/incidents/import, a STIX bundle); past it 413 before more is read",
    )
    rate_limit_per_minute: float = Field(
        default=60.0,
        ge=0,
        description="expensive requests (label checks, reports, eval runs, imports, STIX) one token may make a minute; "
        "0: no limit",
    )
    rate_limit_burst: int = Field(default=30, ge=1, description="expensive requests one token may make at once")
    rate_limit_peer_per_minute: float = Field(
        default=600.0,
        ge=0,
        description="expensive requests one client address may make a minute, whatever its tokens; 0: no limit",
    )
    rate_limit_peer_burst: int = Field(default=200, ge=1, description="expensive requests one address may make at once")
    heavy_slots: int = Field(
        default=2,
        ge=1,
        le=64,
        description="heavy requests (label checks and applies, reports, imports, STIX, eval runs) run at once, each on "
        "its own worker thread; one more is answered 503 heavy-work-busy",
    )
    heavy_budget_seconds: float = Field(
        default=120.0,
        gt=0,
        description="seconds a heavy read (a label check, a report, a STIX export) may take before it is answered 503 "
        "budget-exceeded; writes (imports, eval runs) always run to their end",
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Empty, or a URL by the rule a peer's URL is pinned by (:func:`~detente._internal.urls.url_problem`):
        every command reaches the node through it."""
        problem = url_problem(value) if value else None
        if problem is not None:
            raise ValueError(f"{value[:80]!r} {problem}, e.g. https://us.example:8441")
        return value

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        return self.public_url or f"http://{self.listen}"

    def to_toml(self) -> str:
        """The file ``detente init`` writes: each field with its description as a comment above
        it; tomli-w writes the values (quotes, backslashes, control characters escaped)."""
        lines = ["# detente node configuration (see docs/node.md)"]
        for name, field in type(self).model_fields.items():
            lines.append(f"# {field.description}")
            lines.append(tomli_w.dumps({name: getattr(self, name)}).rstrip("\n"))
        return "\n".join(lines) + "\n"


def load_config(path: str | Path) -> tuple[NodeConfig, Path]:
    """Read ``detente.toml`` (or the one inside a folder); return it and its folder."""
    p = Path(path)
    if p.is_dir():
        p = p / CONFIG_NAME
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no node configuration at {p}", hint="create a node with: detente init") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}") from None
    try:
        return NodeConfig.model_validate(data), p.parent
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"configuration {p}")) from None


def load_agreement(path: Path) -> Agreement:
    """Read an agreement from a JSON file (durations as ISO 8601, e.g. ``PT2H``, or seconds)."""
    try:
        return Agreement.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read agreement {path}: {exc.strerror}") from None
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, f"agreement {path}")) from None
