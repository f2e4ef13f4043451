"""Helpers for scripts/mutation (run with .venv's Python; cosmic-ray must be installed).

``skip-annotations SESSION``: in a module with ``from __future__ import annotations``, mark as
skipped the mutants inside function signature annotations and dataclass field annotations (kept
as strings, never evaluated: equivalent by construction; pydantic models are not skipped).
``skip-outside SESSION FIRST-LAST[,FIRST-LAST...]``: mark as skipped the mutants outside those
lines (to mutate only what a change touched; ``MUTATION_LINES=43-104 scripts/mutation MODULE``).
``report SESSION MODULE SECONDS``: print the kill rate and every surviving mutant with its diff.
``recheck SESSION MODULE TEST...``: run from a copy of the tree; apply each survivor of the session
again (``cosmic-ray apply``), run the tests against it, put the module back, and print which
survivors the tests now kill (after tests were added, without running every mutant again).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


@cache
def _annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    tree = ast.parse(path.read_text())
    lazy = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    if not lazy:
        return []
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            found = [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.annotation]
            found += [a.annotation for a in (args.vararg, args.kwarg) if a is not None and a.annotation]
            if node.returns is not None:
                found.append(node.returns)
        elif isinstance(node, ast.ClassDef) and any(_is_dataclass(d) for d in node.decorator_list):
            # a dataclass keeps its fields' annotations as strings (only ClassVar/InitVar are looked for)
            found = [f.annotation for f in node.body if isinstance(f, ast.AnnAssign)]
        else:
            continue
        if found:
            spans += [((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in found]
    return spans


def _is_dataclass(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == "dataclass"


def skip_annotations(session: str) -> None:
    skipped = 0
    with use_db(session) as db:
        for item in db.work_items:
            m = item.mutations[0]
            start, end = tuple(m.start_pos), tuple(m.end_pos)
            if any(lo <= start and end <= hi for lo, hi in _annotation_spans(Path(m.module_path))):
                db.set_result(
                    item.job_id,
                    WorkResult(output=None, test_outcome=None, diff=None, worker_outcome=WorkerOutcome.SKIPPED),
                )
                skipped += 1
    print(f"scripts/mutation: {skipped} mutants inside annotations skipped (never evaluated)")


def skip_outside(session: str, text: str) -> None:
    """Mark as skipped every mutant outside the line spans ``FIRST-LAST[,FIRST-LAST...]``."""
    ranges = [(int(a), int(b)) for a, _, b in (part.partition("-") for part in text.split(","))]
    skipped = kept = 0
    with use_db(session) as db:
        for item in db.work_items:
            m = item.mutations[0]
            if any(a <= m.start_pos[0] and m.end_pos[0] <= b for a, b in ranges):
                kept += 1
                continue
            db.set_result(
                item.job_id, WorkResult(output=None, test_outcome=None, diff=None, worker_outcome=WorkerOutcome.SKIPPED)
            )
            skipped += 1
    print(f"scripts/mutation: {kept} mutants on lines {text} kept, {skipped} elsewhere skipped")


def report(session: str, module: str, seconds: str) -> None:
    dump = subprocess.run([str(Path(sys.executable).parent / "cosmic-ray"), "dump", session],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    counts: dict[str, int] = {}
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            outcome = "pending"
        elif result["worker_outcome"] == "skipped":
            outcome = "skipped"
        elif result["worker_outcome"] == "timeout":
            outcome = "killed"  # a mutant that hangs the tests is caught
        else:
            outcome = result["test_outcome"] or result["worker_outcome"]
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "survived":
            m = item["mutations"][0]
            diff = [
                d.strip() for d in (result.get("diff") or "").splitlines()
                if d.startswith(("-", "+")) and not d.startswith(("---", "+++"))
            ]  # fmt: skip
            change = " → ".join(d[1:].strip() for d in diff)
            survivors.append(f"  line {m['start_pos'][0]}: {m['operator_name']} #{m['occurrence']}: {change}")
    killed, survived = counts.get("killed", 0), counts.get("survived", 0)
    tested = killed + survived + counts.get("incompetent", 0)
    rate = 100 * killed / tested if tested else 0.0
    print(f"{module}: {tested} mutants tested, {killed} killed, {survived} survived ({rate:.1f} % killed); "
          f"{counts.get('skipped', 0)} skipped, {counts.get('pending', 0)} pending; {seconds} s")  # fmt: skip
    print("\n".join(survivors))


def recheck(session: str, module: str, *tests: str) -> None:
    dump = subprocess.run([str(Path(sys.executable).parent / "cosmic-ray"), "dump", session],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    path = Path("src/detente") / module
    original = path.read_bytes()
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:schemathesis", *tests]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "src"}
    if subprocess.run(pytest, capture_output=True, env=env).returncode != 0:  # else every survivor looks killed
        sys.exit(f"scripts/mutation: the tests fail on the unmutated {module}: nothing re-tested")
    killed, survivors = [], []
    try:
        for line in dump.splitlines():
            item, result = json.loads(line)
            if not result or result["worker_outcome"] != "normal" or result["test_outcome"] != "survived":
                continue
            m = item["mutations"][0]
            label = f"line {m['start_pos'][0]}: {m['operator_name']} #{m['occurrence']}"
            subprocess.run([str(Path(sys.executable).parent / "cosmic-ray"), "apply", str(path),
                            m["operator_name"], str(m["occurrence"])], check=True)  # fmt: skip
            run = subprocess.run(pytest, capture_output=True, env=env)
            (killed if run.returncode != 0 else survivors).append(label)
            path.write_bytes(original)
    finally:
        path.write_bytes(original)
    print(f"{module}: {len(killed)} of the session's {len(killed) + len(survivors)} survivors killed by the tests now")
    for label in killed:
        print(f"  killed now: {label}")
    for label in survivors:
        print(f"  survives:   {label}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "skip-annotations":
        skip_annotations(*args)
    elif command == "skip-outside":
        skip_outside(*args)
    elif command == "recheck":
        recheck(*args)
    else:
        report(*args)
