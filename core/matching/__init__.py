"""Matching of offers ("Biete") and requests ("Suche") between municipalities.

A pure, database-free library: the app keeps one MatchEngine in memory, fills it with the
open posts at start (bulk_upsert()), keeps it current with upsert()/remove() and asks
candidates() when a post is created or changed.
"""

from core.matching.engine import DEFAULT_THRESHOLD, MatchEngine
from core.matching.model import Candidate, PostDoc

__all__ = ["DEFAULT_THRESHOLD", "Candidate", "MatchEngine", "PostDoc"]
