"""Benchmarks live in apps/bench and nowhere else: no module of a domain app imports it, and no
domain app carries a `bench_*` command."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

APPS = Path(settings.BASE_DIR) / "apps"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def domain_modules() -> list[Path]:
    return sorted(p for p in APPS.rglob("*.py") if p.relative_to(APPS).parts[0] != "bench")


def test_no_domain_app_imports_the_bench_package():
    offenders = [
        f"{path.relative_to(APPS)}: {module}"
        for path in domain_modules()
        for module in sorted(imported_modules(path))
        if module == "apps.bench" or module.startswith("apps.bench.")
    ]

    assert domain_modules()  # the walk found the apps
    assert offenders == []


def test_every_bench_command_lives_in_the_bench_package():
    commands = sorted(
        str(p.relative_to(APPS)) for p in APPS.glob("*/management/commands/bench_*.py")
    )

    assert commands == [
        "bench/management/commands/bench_campaign.py",
        "bench/management/commands/bench_erasure.py",
        "bench/management/commands/bench_faults.py",
        "bench/management/commands/bench_ingest.py",
        "bench/management/commands/bench_scale.py",
        "bench/management/commands/bench_webhooks.py",
    ]
