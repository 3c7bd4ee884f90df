"""Write the request adapter, ``core/data/request_adapter.npy``.

Fitted by ridge regression (benchmarks/request_adapter.py, strength RIDGE) on the judged
request-offer pairs of the development sets (benchmarks/gold.py, DEV_PARTS); the
held-out part is never read. Run it again after a change of model, of the centres or of
those sets. It is applied when the index loads the stored vectors, so it needs no reindex.

Usage: python scripts/build_request_adapter.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The fitting lives with its measurement (benchmarks/request_adapter.py), so both use one.
from benchmarks.request_adapter import RIDGE, encoded_parts, fit  # noqa: E402
from core.matching.semantic import REQUEST_ADAPTER_PATH, SentenceEncoder  # noqa: E402


def main() -> None:
    parts = list(encoded_parts(SentenceEncoder()).values())
    adapter = fit(parts, RIDGE)
    np.save(REQUEST_ADAPTER_PATH, adapter.astype(np.float32), allow_pickle=False)
    pairs = sum(len(judged) for part in parts for judged in part.judgments.values())
    print(f"{REQUEST_ADAPTER_PATH.relative_to(ROOT)}: ridge {RIDGE:g}, {pairs} judged pairs")


if __name__ == "__main__":
    main()
