"""Shared vocabularies: the seed's exact GP categories, the mapping's columns and tool parts."""

from __future__ import annotations

import pytest

from sofs_tui.domain.enums import (
    ChildVoiceTool,
    Column,
    GPInvited,
    GPOutcome,
    Section,
    sections_in,
)

# --- GP categories, exactly as the QA Unit's table words them ------------------------------


def test_gp_invited_labels_are_exactly_the_seed_categories_in_order() -> None:
    assert [g.label for g in GPInvited] == [
        "Yes",
        "By SW (GP may not have been contacted)",
        "No",
    ]


def test_gp_outcome_labels_are_exactly_the_seed_categories_in_order() -> None:
    assert [g.label for g in GPOutcome] == [
        "Absent",
        "Attended (& provided report)",
        "Provided report",
        "Sent apology (no report)",
        "Log not completed",
    ]


def test_gp_involved_means_attended_or_provided_a_report_only() -> None:
    involved = {g for g in GPOutcome if g.involved}
    assert involved == {GPOutcome.ATTENDED, GPOutcome.PROVIDED_REPORT}


@pytest.mark.parametrize(
    "outcome",
    [GPOutcome.ABSENT, GPOutcome.SENT_APOLOGY, GPOutcome.LOG_NOT_COMPLETED],
    ids=lambda g: g.value,
)
def test_gp_not_involved_when_absent_apologising_or_unlogged(outcome: GPOutcome) -> None:
    assert outcome.involved is False


# --- the mapping's columns and sections ----------------------------------------------------

EXPECTED_COLUMN = {
    Section.HARM: Column.WORRIES,
    Section.DANGER_STATEMENT: Column.WORRIES,
    Section.COMPLICATING_FACTORS: Column.WORRIES,
    Section.GREY_AREAS: Column.WORRIES,
    Section.EXISTING_STRENGTHS: Column.WORKING_WELL,
    Section.EXISTING_SAFETY: Column.WORKING_WELL,
    Section.SAFETY_GOAL: Column.NEEDS_TO_HAPPEN,
    Section.NEXT_STEPS: Column.NEEDS_TO_HAPPEN,
}


@pytest.mark.parametrize("section", list(Section), ids=lambda s: s.value)
def test_every_section_sits_in_its_column(section: Section) -> None:
    assert section.column is EXPECTED_COLUMN[section]


def test_there_are_exactly_the_eight_sections_of_the_design() -> None:
    assert set(Section) == set(EXPECTED_COLUMN)


def test_column_labels_ask_the_three_questions() -> None:
    assert [c.label for c in Column] == [
        "What are we worried about?",
        "What's working well?",
        "What needs to happen?",
    ]


def test_sections_in_each_column_in_display_order() -> None:
    assert sections_in(Column.WORRIES) == (
        Section.HARM,
        Section.DANGER_STATEMENT,
        Section.COMPLICATING_FACTORS,
        Section.GREY_AREAS,
    )
    assert sections_in(Column.WORKING_WELL) == (Section.EXISTING_STRENGTHS, Section.EXISTING_SAFETY)
    assert sections_in(Column.NEEDS_TO_HAPPEN) == (Section.SAFETY_GOAL, Section.NEXT_STEPS)


@pytest.mark.parametrize("section", list(Section), ids=lambda s: s.value)
def test_every_section_has_a_label(section: Section) -> None:
    assert section.label.strip()


# --- child's voice tools ------------------------------------------------------------------


def test_child_voice_tools_have_their_parts_in_the_order_they_are_presented() -> None:
    assert ChildVoiceTool.THREE_HOUSES.parts == ("worries", "good_things", "dreams")
    assert ChildVoiceTool.SAFETY_HOUSE.parts == (
        "inside",
        "outside",
        "roof",
        "path",
        "safety_rules",
    )
    assert ChildVoiceTool.WORDS_AND_PICTURES.parts == ("story",)
