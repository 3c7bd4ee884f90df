"""Requests kept in a dialogue's data while their sender registers."""

from __future__ import annotations

from core.kernel.kept import MAX_KEPT, kept_requests, parked_files, with_kept

FILE = {"name": "a.pdf", "type": "application/pdf", "sha256": "ab", "complete": True}


def test_a_dialogue_stored_before_several_were_kept_is_read():
    old = {"name": "Eva Roth", "pending": "/wissen_vorschlagen Leitfaden", "pending_files": [FILE]}
    assert kept_requests(old) == [("/wissen_vorschlagen Leitfaden", [FILE])]
    both = with_kept(old, "/suche Dorfladen")
    assert both["name"] == "Eva Roth" and "pending" not in both
    assert kept_requests(both) == [
        ("/wissen_vorschlagen Leitfaden", [FILE]),
        ("/suche Dorfladen", []),
    ]
    assert parked_files(both) == [FILE]


def test_the_same_request_is_kept_once_and_only_the_newest_few():
    data: dict = {}
    for i in range(MAX_KEPT + 2):
        data = with_kept(data, f"/suche Thema {i}")
    data = with_kept(data, f"/suche Thema {MAX_KEPT}")
    texts = [text for text, _ in kept_requests(data)]
    assert len(texts) == MAX_KEPT and texts[-1] == f"/suche Thema {MAX_KEPT}"
    assert len(set(texts)) == MAX_KEPT
