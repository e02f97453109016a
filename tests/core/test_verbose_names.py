"""Every model of our apps speaks the staff member's language in the admin: its name, its
plural and every stored field carry a lazy translation with a Japanese msgstr, so no admin
page, filter or column shows an internal name such as ``model_label`` or ``Customer``."""

import re

import pytest
from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def our_models():
    return [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("apps.")
        for model in config.get_models()
    ]


def untranslated(text) -> bool:
    if not isinstance(text, Promise):
        return True
    with translation.override("ja"):
        return not JAPANESE.search(str(text))


def test_there_are_models_to_walk():
    assert len(our_models()) > 30


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_model_and_its_fields_have_japanese_verbose_names(model):
    meta = model._meta
    missing = [
        f"{meta.label}.Meta.{attr}"
        for attr in ("verbose_name", "verbose_name_plural")
        if untranslated(getattr(meta, attr))
    ]
    missing += [
        f"{meta.label}.{field.name}"
        for field in meta.concrete_fields
        # The automatic primary key is shown by nobody; its "ID" is Django's.
        if not (field.primary_key and field.auto_created) and untranslated(field.verbose_name)
    ]
    assert not missing, "no Japanese verbose name: " + ", ".join(missing)
