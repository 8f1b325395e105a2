"""Fractional position keys: always room between two keys, strict order, invalid keys refused."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sofs_tui.domain.positions import position_between, positions_for, sort_key

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# A valid key: at least one digit of the alphabet and no trailing "0" (which would make two
# spellings of the same place, e.g. "V" and "V0").
VALID_KEY = re.compile(r"^[0-9A-Za-z]*[1-9A-Za-z]$")


def assert_valid(key: str) -> None:
    assert VALID_KEY.match(key), f"not a valid key: {key!r}"
    # The module itself must accept what it made, as either neighbour.
    position_between(key, None)
    position_between(None, key)


# Each new key halves a gap, so about six inserts in one place cost one more character;
# 200 inserts at the worst place must not come near one character per insert.
MAX_LEN_AFTER_200_INSERTS = 50


def assert_strictly_increasing(keys: list[str]) -> None:
    for left, right in itertools.pairwise(keys):
        assert left < right, f"{left!r} is not before {right!r}"


# Any key the module accepts, not only ones it has made so far.
valid_keys = st.text(alphabet=DIGITS, min_size=1, max_size=12).filter(lambda k: k[-1] != "0")


@st.composite
def made_keys(draw: st.DrawFn) -> list[str]:
    """Keys built the way the app builds them: a run of inserts at arbitrary places."""
    keys: list[str] = []
    for slot in draw(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40)):
        index = slot % (len(keys) + 1)
        before = keys[index - 1] if index > 0 else None
        after = keys[index] if index < len(keys) else None
        keys.insert(index, position_between(before, after))
    return keys


# --- the basic cases ---------------------------------------------------------------------


def test_first_key_in_an_empty_section_is_valid() -> None:
    key = position_between(None, None)
    assert_valid(key)


def test_key_after_the_last_sorts_after_it() -> None:
    assert position_between("V", None) > "V"
    assert position_between("z", None) > "z"
    assert position_between("zzz", None) > "zzz"


def test_key_before_the_first_sorts_before_it() -> None:
    assert position_between(None, "V") < "V"
    assert position_between(None, "1") < "1"
    assert position_between(None, "0001") < "0001"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("1", "2"),  # adjacent digits: must go one place deeper
        ("1", "1V"),  # before is a prefix of after
        ("1z", "2"),  # no room at the second digit either
        ("A", "a"),  # across the upper/lower case boundary
        ("9", "A"),  # across the digit/letter boundary
        ("0001", "0002"),
        ("Vzzz", "W"),
    ],
)
def test_key_between_tight_neighbours_is_strictly_between(before: str, after: str) -> None:
    key = position_between(before, after)
    assert before < key < after
    assert_valid(key)


# --- refused input -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "V0", "10", "a-b", "a b", "é", "V_", "0"])
def test_invalid_keys_are_refused_on_either_side(bad: str) -> None:
    with pytest.raises(ValueError, match="not a position key"):
        position_between(bad, None)
    with pytest.raises(ValueError, match="not a position key"):
        position_between(None, bad)


@pytest.mark.parametrize(("before", "after"), [("V", "V"), ("k", "V"), ("V1", "V"), ("b", "a")])
def test_before_not_sorting_before_after_is_refused(before: str, after: str) -> None:
    with pytest.raises(ValueError, match="before must sort before after"):
        position_between(before, after)


# --- properties --------------------------------------------------------------------------


@given(a=valid_keys, b=valid_keys)
def test_any_two_valid_keys_have_a_valid_key_strictly_between(a: str, b: str) -> None:
    if a == b:
        with pytest.raises(ValueError):
            position_between(a, b)
        return
    low, high = sorted((a, b))
    key = position_between(low, high)
    assert low < key < high
    assert_valid(key)


@given(keys=made_keys(), data=st.data())
def test_between_two_made_keys_is_strictly_between(keys: list[str], data: st.DataObject) -> None:
    assert_strictly_increasing(keys)
    ends: list[str | None] = [None, *keys, None]
    i = data.draw(st.integers(min_value=0, max_value=len(ends) - 2), label="left index")
    j = data.draw(st.integers(min_value=i + 1, max_value=len(ends) - 1), label="right index")
    before, after = ends[i], ends[j]
    key = position_between(before, after)
    assert before is None or before < key
    assert after is None or key < after
    if j == i + 1:
        # Between direct neighbours the new key is a new place, not an existing one.
        assert key not in keys
    assert_valid(key)


@given(keys=made_keys())
def test_made_keys_stay_valid_and_ordered(keys: list[str]) -> None:
    assert_strictly_increasing(keys)
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert_valid(key)


def test_inserting_at_the_front_200_times_keeps_order() -> None:
    keys: list[str] = []
    for _ in range(200):
        keys.insert(0, position_between(None, keys[0] if keys else None))
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)
    assert max(len(k) for k in keys) <= MAX_LEN_AFTER_200_INSERTS


def test_inserting_at_the_end_200_times_keeps_order() -> None:
    keys: list[str] = []
    for _ in range(200):
        keys.append(position_between(keys[-1] if keys else None, None))
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)
    assert max(len(k) for k in keys) <= MAX_LEN_AFTER_200_INSERTS


def test_inserting_right_after_the_same_entry_200_times_keeps_order() -> None:
    # Each new entry goes directly after "left": between it and the previous newcomer.
    left, right = "V", "W"
    keys = [left, right]
    for _ in range(200):
        keys.insert(1, position_between(keys[0], keys[1]))
    assert keys[0] == left
    assert keys[-1] == right
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)
    assert max(len(k) for k in keys) <= MAX_LEN_AFTER_200_INSERTS


def test_inserting_right_before_the_same_entry_200_times_keeps_order() -> None:
    # Each new entry goes directly before "right": between the previous newcomer and it.
    left, right = "V", "W"
    keys = [left, right]
    for _ in range(200):
        keys.insert(len(keys) - 1, position_between(keys[-2], keys[-1]))
    assert keys[0] == left
    assert keys[-1] == right
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)
    assert max(len(k) for k in keys) <= MAX_LEN_AFTER_200_INSERTS


@settings(max_examples=50)
@given(a=valid_keys, b=valid_keys, steps=st.lists(st.booleans(), min_size=200, max_size=200))
def test_200_inserts_between_two_neighbours_stay_strictly_between(
    a: str, b: str, steps: list[bool]
) -> None:
    if a == b:
        return
    low, high = sorted((a, b))
    keys = [low, high]
    # Keep inserting in the middle gap, next to either the left or the right newcomer.
    gap = 1
    for go_left in steps:
        keys.insert(gap, position_between(keys[gap - 1], keys[gap]))
        if not go_left:
            gap += 1
    assert keys[0] == low
    assert keys[-1] == high
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)


@given(count=st.integers(min_value=0, max_value=300))
def test_positions_for_gives_count_strictly_increasing_valid_keys(count: int) -> None:
    keys = positions_for(count)
    assert len(keys) == count
    assert_strictly_increasing(keys)
    for key in keys:
        assert_valid(key)


def test_positions_for_zero_is_empty() -> None:
    assert positions_for(0) == []


# --- display order -----------------------------------------------------------------------


def test_sort_key_orders_by_position_then_by_id() -> None:
    rows = [("k", "b"), ("V", "z"), ("k", "a")]
    assert sorted(rows, key=lambda r: sort_key(*r)) == [("V", "z"), ("k", "a"), ("k", "b")]
