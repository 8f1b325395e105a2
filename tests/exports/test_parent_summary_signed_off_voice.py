"""Proposed (needs export_views.patch): the family summary of a signed-off mapping carries the
child's words it was signed off with, not words added on the case later."""

from __future__ import annotations

from sofs_tui.store import mapping
from sofs_tui.store.export_views import parent_summary_source
from sofs_tui.store.store import Store
from tests.conftest import FakeClock
from tests.store.test_mapping_voice_sign_off import _signed_off_family, _words


def test_a_signed_off_summary_keeps_the_words_it_was_signed_off_with(
    store: Store, clock: FakeClock
) -> None:
    ids, _ = _signed_off_family(store, clock)
    draft = mapping.create_assessment(store, ids["case"], title="Next")
    _words(store, ids, "I feel fine now")
    signed = parent_summary_source(store, assessment_id=ids["assessment"])
    assert [v.text for v in signed.voices] == ["I am scared at night"]
    latest = parent_summary_source(store, assessment_id=draft.id)
    assert {v.text for v in latest.voices} == {"I am scared at night", "I feel fine now"}
