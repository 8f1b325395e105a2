"""Mapping rules: pairing danger statements with safety goals, completeness, display order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sofs_tui.domain.enums import Section
from sofs_tui.domain.mapping import (
    Completeness,
    PairingError,
    by_section,
    check_pairing,
    completeness,
    ordered,
)


@dataclass(frozen=True)
class Entry:
    """Test double for `EntryLike`."""

    id: str
    section: Section
    position: str = "V"
    goal_for_id: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class Score:
    """Test double for `ScoreLike`; `danger_statement_id=None` is an overall score."""

    danger_statement_id: str | None
    deleted: bool = False


def danger(entry_id: str, position: str = "V", *, deleted: bool = False) -> Entry:
    return Entry(entry_id, Section.DANGER_STATEMENT, position, deleted=deleted)


def goal(entry_id: str, for_id: str | None = None, *, deleted: bool = False) -> Entry:
    return Entry(entry_id, Section.SAFETY_GOAL, "V", goal_for_id=for_id, deleted=deleted)


# --- pairing -----------------------------------------------------------------------------


def test_unpaired_danger_statement_and_goal_may_be_paired() -> None:
    check_pairing(danger("d1"), goal("g1"), existing_goals=[goal("g1"), goal("g2", "d2")])


def test_only_a_danger_statement_can_be_paired() -> None:
    harm = Entry("h1", Section.HARM)
    with pytest.raises(PairingError, match="Only a danger statement"):
        check_pairing(harm, goal("g1"), existing_goals=[])


@pytest.mark.parametrize(
    "section", [s for s in Section if s is not Section.SAFETY_GOAL], ids=lambda s: s.value
)
def test_a_danger_statement_pairs_only_with_a_safety_goal(section: Section) -> None:
    not_a_goal = Entry("x1", section)
    with pytest.raises(PairingError, match="only be paired with a safety goal"):
        check_pairing(danger("d1"), not_a_goal, existing_goals=[])


def test_pairing_two_goals_the_wrong_way_round_is_refused() -> None:
    with pytest.raises(PairingError):
        check_pairing(goal("g1"), danger("d1"), existing_goals=[])


def test_danger_statement_with_a_goal_cannot_take_a_second() -> None:
    first = goal("g1", "d1")
    with pytest.raises(PairingError, match=r"already has a safety goal\. Unpair that goal first"):
        check_pairing(danger("d1"), goal("g2"), existing_goals=[first, goal("g2")])


def test_re_pairing_the_same_goal_with_its_danger_statement_is_allowed() -> None:
    already = goal("g1", "d1")
    check_pairing(danger("d1"), already, existing_goals=[already])


def test_a_deleted_goal_does_not_block_a_new_pairing() -> None:
    old = goal("g1", "d1", deleted=True)
    check_pairing(danger("d1"), goal("g2"), existing_goals=[old, goal("g2")])


def test_a_goal_paired_with_another_danger_statement_does_not_block() -> None:
    check_pairing(danger("d1"), goal("g2"), existing_goals=[goal("g1", "d9"), goal("g2")])


def test_deleted_danger_statement_cannot_be_paired() -> None:
    with pytest.raises(PairingError, match="deleted"):
        check_pairing(danger("d1", deleted=True), goal("g1"), existing_goals=[])


def test_deleted_goal_cannot_be_paired() -> None:
    with pytest.raises(PairingError, match="deleted"):
        check_pairing(danger("d1"), goal("g1", deleted=True), existing_goals=[])


def test_pairing_error_is_a_value_error() -> None:
    assert issubclass(PairingError, ValueError)


# --- completeness ------------------------------------------------------------------------


def test_mapping_without_danger_statements_is_incomplete() -> None:
    result = completeness([Entry("h1", Section.HARM), goal("g1")], [Score(None)])
    assert result.danger_statements == 0
    assert not result.complete
    assert result.problems() == ["There are no danger statements yet."]


def test_empty_mapping_is_incomplete() -> None:
    result = completeness([], [])
    assert not result.complete
    assert result.problems() == ["There are no danger statements yet."]


def test_each_danger_statement_with_goal_and_own_score_is_complete() -> None:
    entries = [danger("d1", "V"), danger("d2", "k"), goal("g1", "d1"), goal("g2", "d2")]
    result = completeness(entries, [Score("d1"), Score("d2")])
    assert result == Completeness(danger_statements=2)
    assert result.complete
    assert result.problems() == []


def test_each_danger_statement_without_a_goal_is_listed_in_display_order() -> None:
    entries = [danger("d3", "s"), danger("d1", "V"), danger("d2", "k"), goal("g2", "d2")]
    result = completeness(entries, [Score(None)])
    assert result.danger_statements == 3
    assert result.without_goal == ("d1", "d3")
    assert result.without_score == ()
    assert not result.complete


def test_each_danger_statement_without_a_score_is_listed() -> None:
    entries = [danger("d1", "V"), danger("d2", "k"), danger("d3", "s")]
    entries += [goal("g1", "d1"), goal("g2", "d2"), goal("g3", "d3")]
    result = completeness(entries, [Score("d2")])
    assert result.without_goal == ()
    assert result.without_score == ("d1", "d3")
    assert not result.complete


def test_an_overall_score_covers_every_danger_statement() -> None:
    entries = [danger("d1", "V"), danger("d2", "k"), goal("g1", "d1"), goal("g2", "d2")]
    result = completeness(entries, [Score(None)])
    assert result.without_score == ()
    assert result.complete


def test_a_deleted_overall_score_covers_nothing() -> None:
    entries = [danger("d1"), goal("g1", "d1")]
    result = completeness(entries, [Score(None, deleted=True)])
    assert result.without_score == ("d1",)
    assert not result.complete


def test_a_deleted_score_does_not_count() -> None:
    entries = [danger("d1"), goal("g1", "d1")]
    result = completeness(entries, [Score("d1", deleted=True)])
    assert result.without_score == ("d1",)


def test_a_deleted_goal_leaves_its_danger_statement_without_a_goal() -> None:
    entries = [danger("d1"), goal("g1", "d1", deleted=True)]
    result = completeness(entries, [Score("d1")])
    assert result.without_goal == ("d1",)
    assert not result.complete


def test_a_deleted_danger_statement_is_not_counted() -> None:
    entries = [danger("d1", "V"), danger("d2", "k", deleted=True), goal("g1", "d1")]
    result = completeness(entries, [Score("d1")])
    assert result.danger_statements == 1
    assert result.complete


def test_a_score_for_another_danger_statement_does_not_count() -> None:
    entries = [danger("d1"), goal("g1", "d1")]
    result = completeness(entries, [Score("d-other")])
    assert result.without_score == ("d1",)


def test_goal_for_id_on_a_non_goal_entry_does_not_pair() -> None:
    # Only safety goals answer danger statements, whatever a stray field says.
    stray = Entry("n1", Section.NEXT_STEPS, goal_for_id="d1")
    result = completeness([danger("d1"), stray], [Score("d1")])
    assert result.without_goal == ("d1",)


# --- problems() wording ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (Completeness(1, without_goal=("d1",)), ["1 danger statement without a safety goal."]),
        (
            Completeness(3, without_goal=("d1", "d2")),
            ["2 danger statements without a safety goal."],
        ),
        (Completeness(1, without_score=("d1",)), ["1 danger statement without a score."]),
        (Completeness(2, without_score=("d1", "d2")), ["2 danger statements without a score."]),
        (
            Completeness(2, without_goal=("d1",), without_score=("d1", "d2")),
            [
                "1 danger statement without a safety goal.",
                "2 danger statements without a score.",
            ],
        ),
        (Completeness(0), ["There are no danger statements yet."]),
        (Completeness(2), []),
    ],
)
def test_problems_say_what_is_missing_in_plain_words(
    state: Completeness, expected: list[str]
) -> None:
    assert state.problems() == expected
    assert state.complete is (expected == [])


# --- order and sections ------------------------------------------------------------------


def test_ordered_sorts_by_position_and_drops_deleted_entries() -> None:
    entries = [
        Entry("a", Section.HARM, "k"),
        Entry("b", Section.HARM, "V"),
        Entry("c", Section.HARM, "F", deleted=True),
        Entry("d", Section.HARM, "s"),
    ]
    assert [e.id for e in ordered(entries)] == ["b", "a", "d"]


def test_ordered_breaks_position_ties_by_id() -> None:
    entries = [
        Entry("zeta", Section.HARM, "V"),
        Entry("alpha", Section.HARM, "V"),
        Entry("mid", Section.HARM, "V"),
        Entry("first", Section.HARM, "F"),
    ]
    assert [e.id for e in ordered(entries)] == ["first", "alpha", "mid", "zeta"]


def test_by_section_has_every_section_even_when_empty() -> None:
    grouped = by_section([])
    assert list(grouped) == list(Section)
    assert all(entries == [] for entries in grouped.values())


def test_by_section_groups_live_entries_in_display_order() -> None:
    entries = [
        Entry("h2", Section.HARM, "k"),
        Entry("s1", Section.EXISTING_SAFETY, "V"),
        Entry("h1", Section.HARM, "V"),
        Entry("h3", Section.HARM, "F", deleted=True),
        Entry("n1", Section.NEXT_STEPS, "V"),
    ]
    grouped = by_section(entries)
    assert list(grouped) == list(Section)
    assert [e.id for e in grouped[Section.HARM]] == ["h1", "h2"]
    assert [e.id for e in grouped[Section.EXISTING_SAFETY]] == ["s1"]
    assert [e.id for e in grouped[Section.NEXT_STEPS]] == ["n1"]
    assert grouped[Section.DANGER_STATEMENT] == []
    assert sum(len(v) for v in grouped.values()) == 4
