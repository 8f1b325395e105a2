"""The one place that knows where styles, data, settings and state live.

`--data-dir` puts everything (store, settings, state, logs) under one folder, for tests and
for several accounts on one machine; otherwise the platform's usual folders are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_NAME = "sofs"
_PACKAGE_DIR = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """TCSS files: inside the installed wheel, or the top-level `styles/` of a checkout."""
    bundled = _PACKAGE_DIR / "styles"
    return bundled if bundled.is_dir() else _PACKAGE_DIR.parent / "styles"


STYLES = styles_dir()


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    config_dir: Path
    state_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.toml"

    @property
    def demo_root(self) -> Path:
        """Where `sofs --demo` makes its throwaway store (one folder per run, gone at exit)."""
        return self.state_dir / "demo"


def app_paths(data_dir: Path | None = None) -> AppPaths:
    """Where this run keeps its files; `data_dir` overrides every one of them."""
    if data_dir is not None:
        root = data_dir.expanduser().resolve()
        return AppPaths(root, root / "config", root / "state", root / "logs")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
