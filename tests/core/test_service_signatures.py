"""Services take keyword-only, typed arguments (STYLE.md): a misspelt or unknown argument is a
TypeError at the call, not a value silently passed on to a model."""

import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import apps
from apps.core.unchanged import UNCHANGED, given
from apps.customers.services import address_create, address_update
from tests.factories import CustomerFactory

# None any more: a correction request's stored changes (data, where an unknown name is the
# member's mistake and answered with a ValidationError) go through customer_correct, which
# takes them as one dict and calls the typed customer_update_profile.
DATA_DRIVEN: set[str] = set()


def _service_modules():
    root = Path(apps.__file__).parent
    for app in sorted(p.name for p in root.iterdir() if (p / "apps.py").exists()):
        if importlib.util.find_spec(f"apps.{app}.services") is None:
            continue
        module = importlib.import_module(f"apps.{app}.services")
        yield module
        if hasattr(module, "__path__"):  # a package: services/workflow.py, ...
            for info in pkgutil.iter_modules(module.__path__):
                yield importlib.import_module(f"{module.__name__}.{info.name}")


def test_no_service_takes_arbitrary_keyword_arguments():
    offenders = []
    for module in _service_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            qualified = f"{module.__name__}.{name}"
            if function.__module__ != module.__name__ or qualified in DATA_DRIVEN:
                continue
            kinds = {p.kind for p in inspect.signature(function).parameters.values()}
            if inspect.Parameter.VAR_KEYWORD in kinds:
                offenders.append(qualified)
    assert offenders == []


def test_given_keeps_none_and_drops_only_unchanged():
    """An update service's "leave it as it is" is UNCHANGED; None is a value (a date cleared)."""
    assert given(a=UNCHANGED, b=None, c="") == {"b": None, "c": ""}


@pytest.mark.django_db
def test_an_address_update_changes_only_the_fields_given():
    address = address_create(
        customer=CustomerFactory(),
        recipient_name="山田 花子",
        country="JP",
        postal_code="150-0001",
        prefecture="東京都",
        city="渋谷区",
        line1="1-2-3",
        phone="03-1234-5678",
    )
    address_update(address=address, city="新宿区")
    address.refresh_from_db()
    assert (address.city, address.line1, address.recipient_name) == ("新宿区", "1-2-3", "山田 花子")
