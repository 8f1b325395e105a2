"""The demo store's key file kept in memory: it wraps and unwraps like the file on disk."""

from __future__ import annotations

import copy
import pickle

import pytest

from sofs_tui.store.errors import WeakPassphrase, WrongPassphrase
from sofs_tui.store.keys import KdfParams, MemoryKeyFile

FAST = KdfParams.FAST_FOR_TESTS


def test_the_passphrase_unwraps_the_same_key_again_after_the_first_is_wiped() -> None:
    key, key_file = MemoryKeyFile.create("sofs demo", FAST)
    material = key.raw_hex()
    key.wipe()  # what locking does

    again = key_file.unlock("sofs demo")

    assert again.raw_hex() == material


def test_a_wrong_passphrase_does_not_unwrap_it() -> None:
    _, key_file = MemoryKeyFile.create("sofs demo", FAST)

    with pytest.raises(WrongPassphrase):
        key_file.unlock("sofs dem0")


def test_a_short_passphrase_is_refused_as_for_a_key_file_on_disk() -> None:
    with pytest.raises(WeakPassphrase):
        MemoryKeyFile.create("short", FAST)


def test_it_shows_nothing_and_cannot_be_copied_out() -> None:
    key, key_file = MemoryKeyFile.create("sofs demo", FAST)

    assert key.raw_hex() not in repr(key_file)
    with pytest.raises(TypeError):
        pickle.dumps(key_file)
    with pytest.raises(TypeError):
        copy.copy(key_file)
