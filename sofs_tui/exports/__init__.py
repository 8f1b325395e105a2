"""Documents for people: parent summaries, QA Unit packs, statistics tables."""
