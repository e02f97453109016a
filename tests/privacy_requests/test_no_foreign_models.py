"""The request app runs what the registries hold and calls the other apps' selectors and
services: outside its models.py (whose foreign keys are inherent) and its migrations it names
no model class of another app, so a change to a customer's or a consent's model is a change to
that app alone (docs/architecture.md). Annotations may name one under ``TYPE_CHECKING``: no code
runs with it there."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from django.db import models

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "apps" / "privacy_requests"
OWN = "privacy_requests"


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(APP.rglob("*.py"))
        if path.name != "models.py" and "migrations" not in path.relative_to(APP).parts
    ]


def _under_type_checking(tree: ast.AST) -> set[ast.AST]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(ast.walk(statement))
    return skipped


def _foreign_app(module: str) -> str | None:
    """The app of ``apps.<app>.models`` when it is another app's."""
    parts = module.split(".")
    if len(parts) == 3 and parts[0] == "apps" and parts[2] == "models" and parts[1] != OWN:
        return parts[1]
    return None


def foreign_model_names(path: Path) -> list[str]:
    """Where `path` imports another app's models (or asks Django for one by its label)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = _under_type_checking(tree)
    found = []
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if app := _foreign_app(node.module):
                found += [f"{node.lineno}: {alias.name} from apps.{app}" for alias in node.names]
            elif node.module.startswith("apps.") and node.module.count(".") == 1:
                found += [
                    f"{node.lineno}: {node.module}.models"
                    for alias in node.names
                    if alias.name == "models" and node.module != f"apps.{OWN}"
                ]
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: {a.name}" for a in node.names if _foreign_app(a.name)]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_model"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and not str(node.args[0].value).startswith(f"{OWN}.")
        ):
            found.append(f"{node.lineno}: get_model({node.args[0].value!r})")
    return found


def test_the_request_app_imports_no_other_apps_model():
    found = {
        path.relative_to(ROOT).as_posix(): names
        for path in _modules()
        if (names := foreign_model_names(path))
    }
    assert found == {}


def test_no_module_of_the_request_app_holds_another_apps_model():
    """Nor does one arrive under another name (a model re-exported by a selectors module)."""
    found = []
    for path in _modules():
        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(dotted.removesuffix(".__init__"))
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, models.Model)
                and not value._meta.abstract
                and value._meta.app_label != OWN
            ):
                found.append(f"{dotted}.{name}")
    assert found == []


def test_the_check_sees_a_model_import(tmp_path):
    source = tmp_path / "views.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from apps.customers.models import Customer\n"
        "from apps.privacy_requests.models import PrivacyRequest\n"
        "import apps.consents.models\n"
        "from apps.audit import models\n"
        "if TYPE_CHECKING:\n"
        "    from apps.customers.models import User\n"
        "def f():\n"
        "    from apps.customers.models import Inquiry\n"
        "    return apps.get_model('customers.Address'), apps.get_model('privacy_requests.Notice')\n"
    )
    assert foreign_model_names(source) == [
        "2: Customer from apps.customers",
        "4: apps.consents.models",
        "5: apps.audit.models",
        "9: Inquiry from apps.customers",
        "10: get_model('customers.Address')",
    ]
