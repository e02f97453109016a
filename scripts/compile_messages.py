#!/usr/bin/env python3
"""Compile every locale/<lang>/LC_MESSAGES/*.po in the project into the .mo beside it.

    .venv/bin/python scripts/compile_messages.py

Uses polib, so no gettext binaries (msgfmt) are needed. Like msgfmt, fuzzy and untranslated
entries are left out of the .mo. Before writing anything, python-format entries are checked:
a translation whose placeholders differ from its msgid's would raise at run time, so the
script reports it and exits with status 1 instead.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"node_modules", "staticfiles", "venv", "__pycache__"}
# %(name)s, %s, %d, %.2f, ... but not a literal %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def po_files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Prune hidden directories (.venv, .git, ...) and build output: Django's own catalogues
        # in the virtualenv are not ours to compile.
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS]
        path = Path(dirpath)
        if path.name == "LC_MESSAGES" and path.parent.parent.name == "locale":
            found.extend(path / name for name in filenames if name.endswith(".po"))
    return sorted(found)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def problems(po: polib.POFile) -> list[str]:
    found = []
    for entry in po.translated_entries():
        if "python-format" not in entry.flags:
            continue
        wanted = placeholders(entry.msgid)
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for msgstr in translations:
            if placeholders(msgstr) != wanted:
                found.append(f"line {entry.linenum}: placeholders differ in {entry.msgid!r}")
    return found


def main() -> int:
    files = po_files(ROOT)
    if not files:
        print(f"No locale/*/LC_MESSAGES/*.po under {ROOT}", file=sys.stderr)
        return 1
    catalogues = [(path, polib.pofile(str(path), wrapwidth=0)) for path in files]
    errors = [f"{path.relative_to(ROOT)} {msg}" for path, po in catalogues for msg in problems(po)]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    for path, po in catalogues:
        mo_path = path.with_suffix(".mo")
        po.save_as_mofile(str(mo_path))
        print(
            f"{mo_path.relative_to(ROOT)}: {len(po.translated_entries())} translated, "
            f"{len(po.fuzzy_entries())} fuzzy, {len(po.untranslated_entries())} untranslated"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
