"""Scaling questions: whole numbers 0 to 10 with a reason and a scorer, shown side by side."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sofs_tui.domain.scaling import (
    DEFAULT_SCALE_WORDING,
    SCALE_MAX,
    SCALE_MIN,
    ScoreError,
    check_score,
    side_by_side,
)


@dataclass(frozen=True)
class Score:
    """Test double for `ScoreRow`, with the number so a test can see nothing was merged."""

    danger_statement_id: str | None
    scorer_name: str
    value: int
    deleted: bool = False


# --- check_score -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 5, 9, 10])
def test_whole_numbers_on_the_scale_are_accepted(value: int) -> None:
    check_score(value, "She has kept every appointment.", "Mum")


def test_scale_runs_from_zero_to_ten() -> None:
    assert (SCALE_MIN, SCALE_MAX) == (0, 10)


@pytest.mark.parametrize("value", [-1, 11, 100])
def test_numbers_off_the_scale_are_refused(value: int) -> None:
    with pytest.raises(ScoreError, match=f"{value} is outside the scale"):
        check_score(value, "reason", "Mum")


@pytest.mark.parametrize("value", [5.5, 5.0, "5", None])
def test_non_whole_numbers_are_refused(value: object) -> None:
    with pytest.raises(ScoreError, match="whole number from 0 to 10"):
        check_score(value, "reason", "Mum")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_scores(value: bool) -> None:
    with pytest.raises(ScoreError, match="whole number"):
        check_score(value, "reason", "Mum")


@pytest.mark.parametrize("rationale", ["", "   ", "\n\t"])
def test_a_score_needs_its_rationale(rationale: str) -> None:
    with pytest.raises(ScoreError, match="why this person chose this number"):
        check_score(7, rationale, "Mum")


@pytest.mark.parametrize("scorer", ["", "  "])
def test_a_score_needs_its_scorer(scorer: str) -> None:
    with pytest.raises(ScoreError, match="who gave this score"):
        check_score(7, "reason", scorer)


def test_score_error_is_a_value_error() -> None:
    assert issubclass(ScoreError, ValueError)


def test_default_wording_says_what_zero_and_ten_mean() -> None:
    assert DEFAULT_SCALE_WORDING.zero.strip()
    assert DEFAULT_SCALE_WORDING.ten.strip()
    assert DEFAULT_SCALE_WORDING.zero != DEFAULT_SCALE_WORDING.ten


# --- side_by_side ------------------------------------------------------------------------


def test_side_by_side_groups_by_what_is_judged_and_keeps_every_score() -> None:
    mum_d1 = Score("d1", "Mum", 3)
    sw_d1 = Score("d1", "Social worker", 7)
    mum_all = Score(None, "Mum", 4)
    child_all = Score(None, "Child", 2)
    teacher_d2 = Score("d2", "Teacher", 6)
    groups = side_by_side([mum_d1, sw_d1, mum_all, child_all, teacher_d2])
    assert set(groups) == {"d1", "d2", None}
    assert groups["d1"] == [mum_d1, sw_d1]
    assert groups["d2"] == [teacher_d2]
    assert groups[None] == [child_all, mum_all]


def test_side_by_side_never_averages_scores() -> None:
    low, high = Score("d1", "Dad", 2), Score("d1", "Nan", 9)
    groups = side_by_side([high, low])
    # Each person's own number, as their own row: no mean (5.5) or merged entry anywhere.
    assert groups == {"d1": [low, high]}
    assert [s.value for s in groups["d1"]] == [2, 9]
    assert all(s is low or s is high for s in groups["d1"])


def test_side_by_side_sorts_each_group_by_scorer_ignoring_case() -> None:
    scores = [Score("d1", "bob", 1), Score("d1", "Carol", 2), Score("d1", "alice", 3)]
    names = [s.scorer_name for s in side_by_side(scores)["d1"]]
    assert names == ["alice", "bob", "Carol"]


def test_side_by_side_drops_deleted_scores() -> None:
    kept = Score("d1", "Mum", 5)
    groups = side_by_side(
        [kept, Score("d1", "Dad", 1, deleted=True), Score("d2", "Nan", 8, deleted=True)]
    )
    assert groups == {"d1": [kept]}


def test_side_by_side_of_nothing_is_empty() -> None:
    assert side_by_side([]) == {}
