"""``detente.toml`` as ``detente init`` writes it (``NodeConfig.to_toml``) reads back as the same
configuration, whatever the strings hold: Windows paths, quotes, control characters, non-ASCII."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from detente.node.config import NodeConfig, load_config


def _round_trip(tmp_path: Path, config: NodeConfig) -> NodeConfig:
    (tmp_path / "detente.toml").write_text(config.to_toml(), encoding="utf-8")
    loaded, folder = load_config(tmp_path)
    assert folder == tmp_path
    return loaded


def test_backslashes_and_quotes_survive(tmp_path: Path) -> None:
    config = NodeConfig(
        name="us",
        origin="us.detente.example/log",
        key_file=r"C:\detente\keys\party.key",
        store=r"\\server\share\detente.db",
        agreement='agreement "2026".json',
        webhook_url='https://alerts.example/hook?q="x"&path=a\\b',
        alert_email_from='Détente "ops" <ops@us.example>\ttab',
        early_warning_to=["cn.detente.example/log", 'quote"d\\origin'],
        sync_interval=0.5,
    )
    text = config.to_toml()
    assert "# SQLite path, or postgresql://host:port/db[#schema]" in text  # the comments stay
    assert _round_trip(tmp_path, config) == config


@settings(max_examples=60, deadline=None)
@given(value=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_any_string_round_trips(tmp_path_factory, value: str) -> None:  # type: ignore[no-untyped-def]
    config = NodeConfig(
        name="cn", origin="cn.detente.example/log", store=value, webhook_url=value, early_warning_to=[value]
    )
    assert _round_trip(tmp_path_factory.mktemp("cfg"), config) == config
