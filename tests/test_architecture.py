"""The import rules of ARCHITECTURE.md ("What may import what"), checked by parsing the source.

Nothing under `sofs_tui` is imported here: every module is read with `ast`, so an import hidden
inside a function (a lazy import) or under `TYPE_CHECKING` counts like any other. A layer's
dependencies are what its source names, not what happens to run first.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.fresh_python import run_fresh_python

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sofs_tui"
PACKAGE_DIR = PROJECT_ROOT / PACKAGE
STDLIB = frozenset(sys.stdlib_module_names)

# The places ARCHITECTURE.md names; a rule that mentions anything else of ours is a typo.
ARCHITECTURE_LAYOUT = frozenset(
    f"{PACKAGE}.{name}"
    for name in (
        "app",
        "cli",
        "config",
        "paths",
        "secrets",
        "domain",
        "store",
        "sync",
        "sync.protocol",
        # The entity field specs that protocol validates against (split out of protocol.py
        # to keep it small; the same contract, shared by client and service).
        "sync.entities",
        "server",
        "exports",
        "screens",
        "widgets",
    )
)


@dataclass(frozen=True)
class Module:
    """One source file of the package, named as Python would import it."""

    name: str
    path: Path
    is_package: bool

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Import:
    """A module named by an import statement (relative imports resolved), and where."""

    target: str
    line: int


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def discover_modules(package_dir: Path = PACKAGE_DIR) -> list[Module]:
    """Every `.py` file under the package, sorted by dotted name."""
    modules = []
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules.append(Module(".".join(parts), path, is_package))
    return sorted(modules, key=lambda module: module.name)


MODULES = discover_modules()
KNOWN_MODULES = frozenset(module.name for module in MODULES)


def _resolve_relative(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base_parts = package.split(".")
    if level > 1:
        base_parts = base_parts[: -(level - 1)]
    base = ".".join(base_parts)
    return f"{base}.{module}" if module else base


def _dynamic_import_target(call: ast.Call) -> str | None:
    """`importlib.import_module("x")` and `__import__("x")` with a literal absolute name."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    return None if first.value.startswith(".") else first.value


def imports_of(
    source: str, module: str, *, is_package: bool, known: frozenset[str] = KNOWN_MODULES
) -> Iterator[Import]:
    """Every module `source` imports, anywhere in the file.

    `from pkg import name` counts as importing `pkg.name` when that is one of our modules
    (`known`), otherwise as importing `pkg` (the name is an attribute).
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module, node.level, package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(candidate if candidate in known else base, node.lineno)
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            if target is not None:
                yield Import(target, node.lineno)


@dataclass(frozen=True)
class Rule:
    """What the modules under `layer` must not import, and why."""

    rule_id: str
    layer: str
    why: str
    forbidden: tuple[str, ...] = ()
    # Carved out of `forbidden` (e.g. sync.protocol inside sync).
    except_for: tuple[str, ...] = ()
    # When set, our own imports must fall under one of these prefixes.
    ours_only: tuple[str, ...] | None = None
    # When set, the only non-stdlib top-level packages allowed.
    third_party_only: frozenset[str] | None = None

    def applies_to(self, module: str) -> bool:
        return _under(module, self.layer)

    def violation(self, target: str) -> str | None:
        """Why importing `target` breaks this rule, or None if it is allowed."""
        if any(_under(target, allowed) for allowed in self.except_for):
            return None
        for prefix in self.forbidden:
            if _under(target, prefix):
                return f"imports {target} ({prefix} is off limits: {self.why})"
        top = target.partition(".")[0]
        if top == PACKAGE:
            if self.ours_only is not None and not any(_under(target, p) for p in self.ours_only):
                return f"imports {target}; only {', '.join(self.ours_only)} allowed: {self.why}"
        elif self.third_party_only is not None and top not in STDLIB | self.third_party_only:
            allowed = ", ".join(sorted(self.third_party_only)) or "none"
            return f"imports third-party {top} (allowed: {allowed}): {self.why}"
        return None


def _ours(*names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{name}" for name in names)


UI = ("textual", "rich")
RULES = (
    Rule(
        "domain-is-pure",
        f"{PACKAGE}.domain",
        "domain is pure rules: stdlib, holidays and domain only",
        forbidden=(
            *UI,
            "sqlalchemy",
            "sqlmodel",
            "httpx",
            "keyring",
            "fastapi",
            "pydantic",
        ),
        ours_only=_ours("domain"),
        third_party_only=frozenset({"holidays"}),
    ),
    Rule(
        "store-no-ui-or-sync",
        f"{PACKAGE}.store",
        "the store knows no UI, sync client or service",
        forbidden=(
            *UI,
            *_ours("screens", "widgets", "app", "sync", "server"),
            "httpx",
            "fastapi",
        ),
        except_for=_ours("sync.protocol", "sync.entities"),
    ),
    Rule(
        "sync-no-ui-or-server",
        f"{PACKAGE}.sync",
        "sync runs without a screen and shares only the protocol with the service",
        forbidden=(*UI, *_ours("screens", "widgets", "app", "server")),
    ),
    Rule(
        "protocol-only-domain",
        f"{PACKAGE}.sync.protocol",
        "the protocol is request/response shapes over domain, used by client and server",
        ours_only=_ours("domain", "sync.protocol", "sync.entities"),
        third_party_only=frozenset({"pydantic"}),
    ),
    Rule(
        "entities-only-domain",
        f"{PACKAGE}.sync.entities",
        "the synced entities' fields are part of the protocol: plain data over domain",
        ours_only=_ours("domain", "sync.entities"),
        third_party_only=frozenset(),
    ),
    Rule(
        "server-only-domain-protocol",
        f"{PACKAGE}.server",
        "the service shares the domain rules and the sync protocol with the app, nothing else",
        forbidden=(*UI, *_ours("store", "screens", "widgets", "app", "cli", "sync")),
        except_for=_ours("sync.protocol", "sync.entities"),
    ),
    Rule(
        "widgets-no-io",
        f"{PACKAGE}.widgets",
        "widgets take domain objects and post messages; screens do the I/O",
        forbidden=_ours("store", "sync", "server"),
    ),
    Rule(
        "screens-no-server",
        f"{PACKAGE}.screens",
        "the app talks to the service only through the sync client",
        forbidden=_ours("server"),
    ),
    Rule(
        "exports-no-ui-or-server",
        f"{PACKAGE}.exports",
        "documents are made without a screen and without the service",
        forbidden=(*UI, *_ours("screens", "widgets", "server")),
    ),
)


def violations(rule: Rule, module: Module | tuple[str, str, bool]) -> list[str]:
    """`line N: reason` for each import in `module` that breaks `rule`.

    `module` is a real Module or a synthetic `(name, source, is_package)` for the self-checks.
    """
    if isinstance(module, Module):
        name, source, is_package = module.name, module.source, module.is_package
    else:
        name, source, is_package = module
    found = []
    for imported in imports_of(source, name, is_package=is_package):
        reason = rule.violation(imported.target)
        if reason is not None:
            found.append(f"line {imported.line}: {reason}")
    return found


def _rule_cases() -> Iterator[object]:
    for rule in RULES:
        covered = [module for module in MODULES if rule.applies_to(module.name)]
        for module in covered:
            yield pytest.param(rule, module, id=f"{rule.rule_id}:{module.name}")
        if not covered:
            # Visible in the `-ra` summary, so a layer that never appears is noticed.
            yield pytest.param(
                rule,
                None,
                id=f"{rule.rule_id}:<none>",
                marks=pytest.mark.skip(reason=f"{rule.layer} has no modules yet"),
            )


@pytest.mark.parametrize(("rule", "module"), list(_rule_cases()))
def test_module_imports_follow_architecture(rule: Rule, module: Module) -> None:
    found = violations(rule, module)
    assert not found, f"{module.name} ({module.path}) breaks {rule.rule_id}:\n" + "\n".join(found)


def test_walker_finds_the_whole_package() -> None:
    assert len(MODULES) > 10, f"only {len(MODULES)} modules found under {PACKAGE_DIR}"
    assert {f"{PACKAGE}.domain", f"{PACKAGE}.store", f"{PACKAGE}.cli"} <= KNOWN_MODULES


def test_rules_name_only_places_the_architecture_defines() -> None:
    named = {rule.layer for rule in RULES}
    for rule in RULES:
        named.update(rule.forbidden + rule.except_for + (rule.ours_only or ()))
    ours = {name for name in named if name.partition(".")[0] == PACKAGE}
    assert ours <= ARCHITECTURE_LAYOUT, f"typo in a rule: {sorted(ours - ARCHITECTURE_LAYOUT)}"


def _rule(rule_id: str) -> Rule:
    return next(rule for rule in RULES if rule.rule_id == rule_id)


def _synthetic(path: str, source: str) -> tuple[str, str, bool]:
    """A made-up module claimed to live at `path` (relative to the project root)."""
    parts = list(Path(path).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), source, is_package


@pytest.mark.parametrize(
    ("rule_id", "path", "source"),
    [
        ("domain-is-pure", "sofs_tui/domain/x.py", "import textual\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "def f():\n    import sqlmodel\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "from sofs_tui.store import store\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "from .. import paths\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "import platformdirs\n"),
        ("domain-is-pure", "sofs_tui/domain/__init__.py", "from .. import config\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "importlib.import_module('httpx')\n"),
        ("store-no-ui-or-sync", "sofs_tui/store/x.py", "from sofs_tui.sync import client\n"),
        ("store-no-ui-or-sync", "sofs_tui/store/x.py", "from rich.text import Text\n"),
        ("server-only-domain-protocol", "sofs_tui/server/x.py", "from ..store import x\n"),
        ("protocol-only-domain", "sofs_tui/sync/protocol.py", "import httpx\n"),
        ("widgets-no-io", "sofs_tui/widgets/x.py", "if T:\n    import sofs_tui.sync\n"),
    ],
)
def test_rule_engine_reports_a_planted_violation(rule_id: str, path: str, source: str) -> None:
    rule = _rule(rule_id)
    module = _synthetic(path, source)
    assert rule.applies_to(module[0])
    assert violations(rule, module), f"{rule_id} missed {source!r} in {path}"


@pytest.mark.parametrize(
    ("rule_id", "path", "source"),
    [
        ("domain-is-pure", "sofs_tui/domain/x.py", "import holidays\nfrom datetime import date\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "from __future__ import annotations\n"),
        ("domain-is-pure", "sofs_tui/domain/x.py", "from .text import clean_text\n"),
        ("store-no-ui-or-sync", "sofs_tui/store/x.py", "from sofs_tui.sync.protocol import A\n"),
        ("server-only-domain-protocol", "sofs_tui/server/x.py", "import sofs_tui.domain\n"),
    ],
)
def test_rule_engine_allows_permitted_imports(rule_id: str, path: str, source: str) -> None:
    # Guards the engine the other way: a rule that flags everything would be just as useless.
    assert violations(_rule(rule_id), _synthetic(path, source)) == []


def test_package_init_imports_nothing() -> None:
    init = next(module for module in MODULES if module.name == PACKAGE)
    found = [
        f"line {imported.line}: {imported.target}"
        for imported in imports_of(init.source, init.name, is_package=True)
        if imported.target != "__future__"
    ]
    assert not found, f"{init.path} must hold the version only, but imports:\n" + "\n".join(found)


VERIFY_OFF_TEXT = re.compile(r"verify\s*=\s*False")
RELATIVE_STYLES_TEXT = re.compile(r"\.\.[/\\]+styles")


def tls_verification_switched_off(source: str) -> list[str]:
    """R33: certificate checks are never disabled, by text or by a falsy `verify=` argument."""
    by_line = {
        source.count("\n", 0, match.start()) + 1: match.group()
        for match in VERIFY_OFF_TEXT.finditer(source)
    }
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "verify":
            value = node.value
            if isinstance(value, ast.Constant) and not value.value:
                by_line.setdefault(value.lineno, f"verify={value.value!r}")
    return [f"line {line}: {text}" for line, text in sorted(by_line.items())]


def styles_found_relatively(source: str) -> list[str]:
    """TCSS is found through sofs_tui.paths only: no "../styles", no bare relative CSS_PATH."""
    found = [
        f"line {source.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for match in RELATIVE_STYLES_TEXT.finditer(source)
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == "CSS_PATH" for t in targets):
            continue
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for item in items:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                found.append(f"line {item.lineno}: CSS_PATH = {item.value!r} (use paths.STYLES)")
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_module_never_switches_off_tls_verification(module: Module) -> None:
    found = tls_verification_switched_off(module.source)
    assert not found, f"{module.path} disables TLS verification (R33):\n" + "\n".join(found)


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_module_finds_styles_only_through_paths(module: Module) -> None:
    found = styles_found_relatively(module.source)
    assert not found, f"{module.path} builds a TCSS path itself:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "httpx.Client(verify=False)\n",
        "httpx.Client(verify = False)\n",
        "httpx.Client(verify=0)\n",
    ],
)
def test_tls_check_catches_verification_switched_off(source: str) -> None:
    assert tls_verification_switched_off(source)


@pytest.mark.parametrize(
    "source",
    [
        'CSS_PATH = "../styles/app.tcss"\n',
        'CSS_PATH = Path(__file__).parent / "..\\\\styles" / "x.tcss"\n',
        'class S:\n    CSS_PATH = ["case_list.tcss"]\n',
    ],
)
def test_styles_check_catches_relative_tcss_paths(source: str) -> None:
    assert styles_found_relatively(source)


def test_styles_check_allows_paths_styles() -> None:
    source = 'class S:\n    CSS_PATH = [STYLES / "base.tcss", STYLES / "case_list.tcss"]\n'
    assert styles_found_relatively(source) == []


# --- What a cold start really loads (a subprocess, so this test process does not count) ---

HEAVY = ("sqlalchemy", "sqlmodel", "textual", "httpx", "keyring")


def _heavy_modules_loaded_by(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    loaded = json.loads(run_fresh_python(probe).strip().splitlines()[-1])
    return sorted(name for name in loaded if any(_under(name, heavy) for heavy in HEAVY))


def test_importing_cli_loads_no_heavy_packages() -> None:
    assert _heavy_modules_loaded_by("import sofs_tui.cli") == []


def test_sofs_help_loads_no_heavy_packages() -> None:
    code = "from sofs_tui.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _heavy_modules_loaded_by(code) == []


def test_importing_deadlines_loads_no_sql_or_ui() -> None:
    assert _heavy_modules_loaded_by("import sofs_tui.domain.deadlines") == []
