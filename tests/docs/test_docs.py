"""Docs that cannot drift: every CLI command and every error code is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import typer

from detente import errors
from detente.cli.app import app

DOCS = Path(__file__).parent.parent.parent / "docs"


def _command_paths(t: typer.Typer, prefix: str = "detente") -> list[str]:
    out = []
    for cmd in t.registered_commands:
        name = cmd.name or (cmd.callback.__name__.replace("_", "-") if cmd.callback else "")
        out.append(f"{prefix} {name}")
    for group in t.registered_groups:
        assert group.typer_instance is not None
        out.extend(_command_paths(group.typer_instance, f"{prefix} {group.name}"))
    return out


def test_every_cli_command_is_in_docs_cli() -> None:
    text = (DOCS / "cli.md").read_text()
    paths = _command_paths(app)
    assert len(paths) >= 13
    missing = [p for p in paths if f"`{p}" not in text]
    assert not missing, f"undocumented commands: {missing}"


def test_every_error_code_is_in_docs_errors() -> None:
    text = (DOCS / "errors.md").read_text()
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.DetenteError)]
    assert len(classes) >= 20
    for cls in classes:
        row = re.search(rf"\| `{re.escape(cls.code)}` \| `{cls.__name__}` \| {cls.http_status} \|", text)
        assert row, f"{cls.__name__} ({cls.code}, {cls.http_status}) is not documented in docs/errors.md"


def test_readme_first_screen_has_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text().splitlines()[:30]
    assert any(line.startswith("./scripts/demo") for line in readme)
    assert any(line.startswith("./scripts/test") for line in readme)
    assert "bash scripts/test" in (DOCS.parent / ".ci" / "run").read_text()


def test_every_node_setting_and_route_is_in_docs_node() -> None:
    from detente.node.config import NodeConfig

    text = (DOCS / "node.md").read_text()
    for name in NodeConfig.model_fields:
        assert f"| `{name}` |" in text, f"setting {name} is not documented in docs/node.md"
    import re as _re

    import detente.api

    source = "".join(p.read_text() for p in sorted(Path(detente.api.__file__).parent.glob("*.py")))
    routes = _re.findall(r'@app\.(get|post|delete|put)\("([^"]+)"', source)
    assert len(routes) >= 12
    for method, path in routes:
        path = path.replace(":path}", "}")
        assert f"`{method.upper()} {path}" in text, f"{method.upper()} {path} is not documented in docs/node.md"


def test_the_node_diagram_in_architecture_md_is_drawn_from_the_code() -> None:
    """docs/architecture.md's import diagram of the node is what scripts/architecture draws now."""
    from detente._internal.architecture import BEGIN, END, mermaid, node_graph

    text = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawn = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert drawn == mermaid(node_graph()), "the node changed: run scripts/architecture"
    assert "  node --> syncer" in drawn and "  desk --> party" in drawn
