"""Write the centres of the sentence encoder's vectors: ``core/data/sentence_centre.npy`` and
``core/data/kind_centres.npy``.

The centre is the mean of the model's own vectors (core/matching/semantic.py) over the posts
of the tuning part of the labelled set (benchmarks/data/matching_gold.jsonl); the kind
centres are the means over its offers and over its requests. The frozen test parts are never
read. Run it again after a change of model or of the tuning part. Another centre changes the
model id, so every stored vector is encoded again: run `zukunftsraum matches reindex` before
the next start. The kind centres are applied when the index loads the stored vectors, so
they need no reindex. The request adapter is fitted on kind-centred vectors: after new
centres, run scripts/build_request_adapter.py too.

Usage: python scripts/build_sentence_centre.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gold import DEFAULT_GOLD, load_gold  # noqa: E402
from core.matching.model import KINDS  # noqa: E402
from core.matching.semantic import (  # noqa: E402
    CENTRE_PATH,
    KIND_CENTRES_PATH,
    SentenceEncoder,
    post_text,
)


def main() -> None:
    posts = list(load_gold(DEFAULT_GOLD).posts.values())
    vectors = SentenceEncoder().model_vectors([post_text(p.title, p.body, p.topics) for p in posts])
    centre = vectors.mean(axis=0).astype(np.float32)
    if not (CENTRE_PATH.exists() and np.allclose(np.load(CENTRE_PATH), centre, atol=1e-6)):
        # Written only when it changed: a new file makes every stored vector outdated.
        np.save(CENTRE_PATH, centre, allow_pickle=False)
        print(f"{CENTRE_PATH.relative_to(ROOT)}: mean of {len(posts)} posts")
    kinds = np.array([p.kind for p in posts])
    centres = np.stack([vectors[kinds == kind].mean(axis=0) for kind in KINDS])
    np.save(KIND_CENTRES_PATH, centres.astype(np.float32), allow_pickle=False)
    counts = ", ".join(f"{int((kinds == kind).sum())} {kind}s" for kind in KINDS)
    print(f"{KIND_CENTRES_PATH.relative_to(ROOT)}: means of {counts}")


if __name__ == "__main__":
    main()
