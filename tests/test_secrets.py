"""Service tokens in the keyring: the size limit (R8), allow-listed backends (R6), bounded calls
off the event loop (R7), and failures that never leak a token.

In-process tests only ever use injected backends; anything that lets keyring discover a backend
runs in a subprocess whose HOME and XDG directories are temporary.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sofs_tui.secrets import (
    MAX_TOKEN_CHARS,
    OFFLINE_ADVICE,
    SERVICE,
    TRUSTED_BACKENDS,
    CredentialStoreUnavailable,
    KeyringLike,
    TokenStore,
    TokenTooLong,
    token_name,
)
from tests.support.memory_keyring import (
    HANGING_KEYRING,
    MEMORY_KEYRING,
    FailingKeyring,
    HangingKeyring,
    MemoryKeyring,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOSTILE_DIR = PROJECT_ROOT / "tests" / "support" / "keyring_hostile"
NAME = token_name("https://sofs.example.gov.uk", "a.worker", "refresh")
WITH_MEMORY = TRUSTED_BACKENDS | {MEMORY_KEYRING}
SHORT = 0.2  # seconds: a test-sized credential store timeout
CHAINER = "keyring.backends.chainer.ChainerBackend"


class PlaintextStandIn(MemoryKeyring):
    """Untrusted, with a positive priority so keyring's chainer would include it."""

    priority = 0.5  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _no_real_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Should anything in-process ask keyring for a backend, it gets memory and a throwaway home.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", MEMORY_KEYRING)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release.set()  # let the daemon thread finish


# Tokens and the size limit (R8)


def test_token_name_joins_service_url_user_and_kind() -> None:
    assert token_name("https://s.example", "jo", "device") == "https://s.example|jo|device"
    assert token_name("https://s.example", "jo") == "https://s.example|jo|refresh"


def test_token_round_trips_under_the_sofs_service_name() -> None:
    backend = MemoryKeyring()
    store = TokenStore(backend=backend, timeout=SHORT)

    store.set(NAME, "opaque-token")

    assert store.available and store.reason is None
    assert backend.entries == {(SERVICE, NAME): "opaque-token"}
    assert store.get(NAME) == "opaque-token"
    store.delete(NAME)
    assert store.get(NAME) is None


def test_token_over_512_characters_is_refused_before_reaching_the_backend() -> None:
    backend = MemoryKeyring()
    store = TokenStore(backend=backend, timeout=SHORT)
    token = "t" * 1_300

    with pytest.raises(TokenTooLong) as refused:
        store.set(NAME, token)

    assert backend.calls == []
    assert "1,300 characters" in str(refused.value)
    assert token not in str(refused.value)


async def test_async_save_of_a_long_token_is_refused_before_reaching_the_backend() -> None:
    backend = MemoryKeyring()
    store = TokenStore(backend=backend, timeout=SHORT)

    with pytest.raises(TokenTooLong):
        await store.aset(NAME, "t" * 1_300)

    assert backend.calls == []


def test_token_of_exactly_512_characters_is_kept() -> None:
    store = TokenStore(backend=MemoryKeyring(), timeout=SHORT)
    store.set(NAME, "t" * MAX_TOKEN_CHARS)
    assert store.get(NAME) == "t" * MAX_TOKEN_CHARS


def test_deleting_a_token_that_is_not_there_counts_as_deleted() -> None:
    backend = MemoryKeyring()
    TokenStore(backend=backend, timeout=SHORT).delete(NAME)
    assert backend.calls == [("delete", SERVICE, NAME)]


# Backend failures


@pytest.mark.parametrize("call", ["get", "set", "delete"])
def test_locked_backend_is_reported_as_unavailable(call: str) -> None:
    store = TokenStore(backend=FailingKeyring(), timeout=SHORT)

    with pytest.raises(CredentialStoreUnavailable) as failed:
        if call == "set":
            store.set(NAME, "opaque-token")
        else:
            getattr(store, call)(NAME)

    assert "KeyringLocked" in str(failed.value)
    assert "unlock it" in str(failed.value)


def test_failure_never_carries_the_token_even_if_the_backend_quotes_it() -> None:
    token = "secret-refresh-token-4f9c"
    store = TokenStore(backend=FailingKeyring(echo_secret=True), timeout=SHORT)

    with pytest.raises(CredentialStoreUnavailable) as failed:
        store.set(NAME, token)

    chain: list[BaseException] = []
    error: BaseException | None = failed.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert all(token not in str(e) and token not in repr(e) for e in chain)
    assert "PasswordSetError" in str(failed.value)


def test_unavailable_store_refuses_every_call_with_its_reason() -> None:
    store = TokenStore.unavailable("No trusted credential store is available (found x).")

    assert not store.available
    calls: list[Callable[[], object]] = [
        lambda: store.get(NAME),
        lambda: store.set(NAME, "v"),
        lambda: store.delete(NAME),
    ]
    for call in calls:
        with pytest.raises(CredentialStoreUnavailable, match="found x"):
            call()


# Bounded calls off the event loop (R7)


def test_hung_backend_gives_up_within_the_timeout(hanging: HangingKeyring) -> None:
    store = TokenStore(backend=hanging, timeout=SHORT)

    started = time.monotonic()
    with pytest.raises(CredentialStoreUnavailable, match=r"did not answer within 0\.2 seconds"):
        store.get(NAME)

    assert hanging.entered.is_set()
    assert time.monotonic() - started < SHORT + 1.0


def test_save_queued_behind_a_hung_call_is_dropped_not_applied_later(
    hanging: HangingKeyring,
) -> None:
    store = TokenStore(backend=hanging, timeout=SHORT)
    with pytest.raises(CredentialStoreUnavailable):
        store.get(NAME)
    with pytest.raises(CredentialStoreUnavailable):
        store.set(NAME, "late-token")  # queued behind the hung read; the caller gave up

    hanging.release.set()

    assert store.get(NAME) is None  # runs after both; the abandoned save never happened
    assert ("set", SERVICE, NAME) not in hanging.calls


async def test_event_loop_keeps_running_while_aget_waits_on_a_hung_backend(
    hanging: HangingKeyring,
) -> None:
    store = TokenStore(backend=hanging, timeout=0.3)
    ticks = 0
    waiting = True

    async def tick() -> None:
        nonlocal ticks
        while waiting:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    with pytest.raises(CredentialStoreUnavailable, match=r"did not answer within 0\.3 seconds"):
        await store.aget(NAME)
    waiting = False
    await ticker

    assert time.monotonic() - started < 0.3 + 1.0
    assert ticks >= 5  # a blocked loop would have ticked once at most


async def test_async_calls_round_trip_a_token() -> None:
    store = TokenStore(backend=MemoryKeyring(), timeout=SHORT)

    await store.aset(NAME, "opaque-token")
    assert await store.aget(NAME) == "opaque-token"
    await store.adelete(NAME)
    assert await store.aget(NAME) is None


async def test_async_failure_is_reported_as_unavailable() -> None:
    store = TokenStore(backend=FailingKeyring(), timeout=SHORT)
    with pytest.raises(CredentialStoreUnavailable, match="KeyringLocked"):
        await store.aget(NAME)


# Vetting a backend in hand (R6)


def test_backend_off_the_allow_list_is_refused_and_never_given_the_probe() -> None:
    backend = MemoryKeyring()

    store = TokenStore.vetted(backend, timeout=SHORT)

    assert not store.available
    assert store.reason == (
        f"No trusted credential store is available (found {MEMORY_KEYRING}). {OFFLINE_ADVICE}"
    )
    assert backend.calls == []
    with pytest.raises(CredentialStoreUnavailable):
        store.get(NAME)


def test_allow_listed_backend_that_keeps_its_word_is_accepted_and_left_clean() -> None:
    backend = MemoryKeyring()

    store = TokenStore.vetted(backend, timeout=SHORT, trusted=WITH_MEMORY)

    assert store.available and store.backend_name == MEMORY_KEYRING
    assert [call[0] for call in backend.calls] == ["set", "get", "delete", "get"]
    assert backend.entries == {}


def test_null_keyring_fails_the_round_trip_even_if_allow_listed() -> None:
    from keyring.backends.null import Keyring as NullKeyring

    null_name = "keyring.backends.null.Keyring"
    null: KeyringLike = NullKeyring()  # type: ignore[no-untyped-call]
    store = TokenStore.vetted(null, timeout=SHORT, trusted=TRUSTED_BACKENDS | {null_name})

    assert not store.available
    assert store.reason is not None
    assert null_name in store.reason and "did not give back" in store.reason


def test_imitation_of_an_allow_listed_class_is_refused() -> None:
    import keyring.backends.SecretService  # noqa: F401  # the genuine class is loaded too

    class Keyring(MemoryKeyring):
        priority = -1  # never picked by keyring's own detection in this process

    Keyring.__module__ = "keyring.backends.SecretService"
    Keyring.__qualname__ = "Keyring"

    store = TokenStore.vetted(Keyring(), timeout=SHORT)

    assert not store.available
    assert store.reason is not None and "keyring.backends.SecretService.Keyring" in store.reason


def test_chained_backends_are_accepted_only_if_every_one_is_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.backend
    from keyring.backends.chainer import ChainerBackend

    monkeypatch.setattr(keyring.backend, "_limit", None)

    def vet_chain_of(*members: MemoryKeyring) -> TokenStore:
        monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: list(members))
        chainer: KeyringLike = ChainerBackend()  # type: ignore[no-untyped-call]
        return TokenStore.vetted(chainer, timeout=SHORT, trusted=WITH_MEMORY)

    trusted, untrusted = MemoryKeyring(), PlaintextStandIn()
    mixed = vet_chain_of(trusted, untrusted)
    assert not mixed.available
    assert mixed.reason is not None
    assert f"{CHAINER} holding {__name__}.PlaintextStandIn" in mixed.reason
    assert trusted.calls == [] and untrusted.calls == []

    assert vet_chain_of(MemoryKeyring()).available
    empty = vet_chain_of()
    assert not empty.available
    assert empty.reason is not None and "nothing to chain" in empty.reason


def test_backend_that_hangs_during_vetting_is_refused_within_the_timeout(
    hanging: HangingKeyring,
) -> None:
    started = time.monotonic()
    store = TokenStore.vetted(hanging, timeout=SHORT, trusted=TRUSTED_BACKENDS | {HANGING_KEYRING})

    assert not store.available
    assert store.reason is not None and "did not answer within 0.2 seconds" in store.reason
    assert time.monotonic() - started < SHORT + 1.0


def test_backend_that_fails_during_vetting_is_refused_with_the_error_named() -> None:
    failing = "tests.support.memory_keyring.FailingKeyring"
    store = TokenStore.vetted(FailingKeyring(), timeout=SHORT, trusted=WITH_MEMORY | {failing})

    assert not store.available
    assert store.reason is not None and "KeyringLocked" in store.reason


async def test_async_discovery_vets_the_backend_keyring_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring.core

    # Forget any backend keyring cached earlier in this process; the fixture names memory.
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    refused = await TokenStore.afrom_system(timeout=2.0)
    accepted = await TokenStore.afrom_system(timeout=2.0, trusted=WITH_MEMORY)

    assert refused.reason is not None
    assert f"(found {MEMORY_KEYRING}, named by PYTHON_KEYRING_BACKEND)" in refused.reason
    assert accepted.available and accepted.backend_name == MEMORY_KEYRING
    await accepted.aset(NAME, "opaque-token")
    assert await accepted.aget(NAME) == "opaque-token"


# Discovery from the environment, in subprocesses with a temporary home (R6, R7)


def _isolated_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "LOCALAPPDATA": str(home / "AppData" / "Local"),
        "APPDATA": str(home / "AppData" / "Roaming"),
    }
    if "SYSTEMROOT" in os.environ:  # Windows needs it to start Python at all
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    env.update(extra)
    return env


_FROM_SYSTEM = """
import json, sys
from sofs_tui.secrets import TRUSTED_BACKENDS, TokenStore
extra = frozenset(sys.argv[2:])
store = TokenStore.from_system(timeout=float(sys.argv[1]), trusted=TRUSTED_BACKENDS | extra)
working = None
if store.available:
    store.set("probe-from-test", "opaque-token")
    working = store.get("probe-from-test") == "opaque-token"
    store.delete("probe-from-test")
print(json.dumps({
    "available": store.available,
    "reason": store.reason,
    "working": working,
    "hostile_imported": "hostile_backend" in sys.modules,
}))
"""


def _from_system(
    home: Path, timeout: float = 10.0, trusted: tuple[str, ...] = (), **env: str
) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", _FROM_SYSTEM, str(timeout), *trusted],
        env=_isolated_env(home, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def _files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_importing_secrets_does_not_import_keyring(tmp_path: Path) -> None:
    code = "import sys, sofs_tui.secrets; print('keyring' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        env=_isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == "False"


@pytest.mark.parametrize(
    "backend",
    [
        "keyring.backends.null.Keyring",
        "keyring.backends.fail.Keyring",
        # Refused by name before import, so this runs whether or not keyrings.alt is installed.
        "keyrings.alt.file.PlaintextKeyring",
    ],
)
def test_untrusted_backend_named_in_the_environment_is_refused(
    tmp_path: Path, backend: str
) -> None:
    before = _files_under(tmp_path)

    result = _from_system(tmp_path, PYTHON_KEYRING_BACKEND=backend)

    assert result["available"] is False
    assert f"(found {backend}, named by PYTHON_KEYRING_BACKEND)" in str(result["reason"])
    assert OFFLINE_ADVICE in str(result["reason"])
    assert _files_under(tmp_path) == before


def _write_hostile_config(home: Path) -> Path:
    config = home / ".config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"[backend]\nkeyring-path = {HOSTILE_DIR}\ndefault-keyring = hostile_backend.FileKeyring\n",
        encoding="utf-8",
    )
    return config


def test_backend_loaded_through_keyring_path_is_refused_without_running_it(
    tmp_path: Path,
) -> None:
    _write_hostile_config(tmp_path)
    before = _files_under(tmp_path)

    result = _from_system(tmp_path)

    assert result["available"] is False
    assert "hostile_backend.FileKeyring" in str(result["reason"])
    assert "keyring-path" in str(result["reason"])
    assert result["hostile_imported"] is False
    assert _files_under(tmp_path) == before  # no secret, not even the import marker


def test_unreadable_keyring_configuration_is_refused(tmp_path: Path) -> None:
    config = tmp_path / ".config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("this is not [an ini file\n", encoding="utf-8")

    result = _from_system(tmp_path)

    assert result["available"] is False
    assert "unreadable keyring configuration" in str(result["reason"])


def test_trusted_backend_that_cannot_run_here_is_reported_without_raising(
    tmp_path: Path,
) -> None:
    # No D-Bus session in the isolated environment, so Secret Service cannot even load.
    result = _from_system(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring")

    assert result["available"] is False
    assert "could not be started (RuntimeError)" in str(result["reason"])


def test_hostile_backend_would_write_secrets_to_disk_if_keyring_were_used_directly(
    tmp_path: Path,
) -> None:
    # Control for the test above: the same configuration does leak through plain keyring.
    _write_hostile_config(tmp_path)
    code = "import keyring; keyring.set_password('sofs-tui', 'control', 'leaked-token')"
    subprocess.run(
        [sys.executable, "-c", code],
        env=_isolated_env(tmp_path),
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert (tmp_path / "stolen-sofs-tui-control.txt").read_text() == "leaked-token"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="elsewhere keyring's own detection would find the user's real OS keyring",
)
def test_headless_linux_detection_finds_no_trusted_store(tmp_path: Path) -> None:
    # No D-Bus session in the isolated environment: keyring falls back to its fail backend,
    # which reaches the class check after loading.
    before = _files_under(tmp_path)

    result = _from_system(tmp_path)

    assert result["available"] is False
    assert "(found keyring.backends.fail.Keyring)" in str(result["reason"])
    assert _files_under(tmp_path) == before


def test_trusted_backend_from_the_environment_is_vetted_and_used(tmp_path: Path) -> None:
    result = _from_system(
        tmp_path, trusted=(MEMORY_KEYRING,), PYTHON_KEYRING_BACKEND=MEMORY_KEYRING
    )

    assert result == {
        "available": True,
        "reason": None,
        "working": True,
        "hostile_imported": False,
    }


def test_hung_backend_at_start_is_refused_and_cannot_block_exit(tmp_path: Path) -> None:
    started = time.monotonic()

    result = _from_system(
        tmp_path, timeout=0.5, trusted=(HANGING_KEYRING,), PYTHON_KEYRING_BACKEND=HANGING_KEYRING
    )

    assert result["available"] is False
    assert "did not answer within 0.5 seconds" in str(result["reason"])
    # The subprocess exited although its keyring thread is still blocked for ever.
    assert time.monotonic() - started < 30
