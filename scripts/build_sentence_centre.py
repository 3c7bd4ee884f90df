"""Write the centre of the sentence encoder's vectors, ``core/data/sentence_centre.npy``.

The centre is the mean of the model's own vectors (core/matching/semantic.py) over the posts
of the tuning part of the labelled set (benchmarks/data/matching_gold.jsonl); the frozen test
parts are never read. Run it again after a change of model or of the tuning part, then
`zukunftsraum matches reindex` before the next start (another centre changes the model id, so
every stored vector is encoded again).

Usage: python scripts/build_sentence_centre.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gold import DEFAULT_GOLD, load_gold  # noqa: E402
from core.matching.semantic import CENTRE_PATH, SentenceEncoder, post_text  # noqa: E402


def main() -> None:
    gold = load_gold(DEFAULT_GOLD)
    texts = [post_text(p.title, p.body, p.topics) for p in gold.posts.values()]
    vectors = SentenceEncoder().model_vectors(texts)
    np.save(CENTRE_PATH, vectors.mean(axis=0).astype(np.float32), allow_pickle=False)
    print(f"{CENTRE_PATH.relative_to(ROOT)}: mean of {len(texts)} posts")


if __name__ == "__main__":
    main()
