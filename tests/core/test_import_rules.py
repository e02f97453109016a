"""The layering of SPEC §2 and docs/architecture.md, checked over the import graph of apps/.

Every ``import apps.x`` / ``from apps.x import ...`` in an app's modules (also inside functions
and under TYPE_CHECKING) must name the app itself or one it may know. Lower apps reach upper
ones only through the registries in apps/core (privacy, retention, admin extensions) and
``django.apps.apps.get_model`` labels, never by importing them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"

# What each app may import besides itself. Written as it is, from the bottom up; the same table
# is in docs/architecture.md (checked below).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "customers": {"core"},
    "orders": {"core", "customers"},
    "consents": {"core", "customers"},
    "marketing": {"core", "customers", "consents"},
    "incidents": {"core"},
    "audit": {"core", "customers"},
    # orders: a correction reaches the shipping snapshots through orders' own service.
    "privacy_requests": {"core", "customers", "orders", "consents", "audit"},
    "mypage": {"core", "customers", "orders", "consents", "marketing"},
    "demo": {"core", "customers", "orders", "consents", "marketing"},
    "integration": {"core", "customers", "orders", "consents", "marketing", "audit"},
}

# The benchmark and scan harness (apps/bench) drives every app on purpose and is no layer of the
# product: no app may import it (tests/bench/test_import_rules.py), and it may import any.
HARNESS = (re.compile(r"^apps/bench/"),)


def _app_names() -> set[str]:
    return {p.name for p in APPS.iterdir() if (p / "apps.py").exists()} - {"bench"}


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "apps":  # from apps import customers
                modules = [f"apps.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "apps" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def violations(allowed: dict[str, set[str]]) -> list[str]:
    found = []
    for path in sorted(APPS.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(pattern.match(relative) for pattern in HARNESS):
            continue
        app = path.relative_to(APPS).parts[0]
        if app not in allowed:
            continue  # apps/__init__.py, or an app the next test reports
        for target, line in sorted(_imported_apps(path)):
            if target != app and target not in allowed[app]:
                found.append(f"{relative}:{line} imports apps.{target}")
    return found


def test_every_app_has_its_place_in_the_rules():
    assert _app_names() == set(ALLOWED), "add the new app to ALLOWED and to the doc's table"


def test_no_app_imports_one_it_may_not_know():
    assert violations(ALLOWED) == []


def test_the_rules_are_layers():
    """No two apps may know each other, directly or through others."""

    def reaches(app, seen=()):
        for lower in ALLOWED[app]:
            if lower in seen:
                continue
            yield lower
            yield from reaches(lower, (*seen, lower))

    for app in ALLOWED:
        assert app not in set(reaches(app)), app
    assert all(not deps for app, deps in ALLOWED.items() if app == "core")
    assert not any("privacy_requests" in deps for deps in ALLOWED.values())


def test_the_check_sees_a_forbidden_import(tmp_path):
    """The rule bites: consents importing audit (as its views once did) is reported."""
    stricter = {**ALLOWED, "privacy_requests": {"core", "customers", "orders", "consents"}}
    assert any("imports apps.audit" in v for v in violations(stricter))
    assert "consents" in ALLOWED and "audit" not in ALLOWED["consents"]
    source = tmp_path / "views.py"
    source.write_text("def f():\n    from apps.audit.models import AccessLog\n")
    assert _imported_apps(source) == {("audit", 2)}


def test_the_doc_states_the_same_rules():
    """docs/architecture.md's table between its import-rules markers says what ALLOWED says."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    text = text.split("<!-- import-rules -->")[1].split("<!-- /import-rules -->")[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", text, flags=re.MULTILINE)
    documented = {app: set(re.findall(r"`([a-z_]+)`", may_import)) for app, may_import in rows}
    assert documented == ALLOWED


def test_no_app_names_an_app_above_it_in_the_erasure_order(db):
    """The order of erasers is declared by the upper app (``runs_before=("customers",)``), so
    a lower app names no app it may not import, not even as a string."""
    from apps.core.privacy import handlers

    for handler in handlers():
        if handler.name not in ALLOWED:
            continue  # a test's own app
        named = {*handler.runs_after, *handler.runs_before}
        assert named <= ALLOWED[handler.name], handler.name
