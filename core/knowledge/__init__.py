"""The knowledge collection (Wissenssammlung): guides, checklists, templates, studies,
good-practice reports, recordings and e-learning material, curated by staff, found by
members with ``/wissen`` and brought to them beside their matches and in the digest."""
