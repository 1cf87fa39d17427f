"""Extract the messages HR pages use (Babel) and keep the catalogs in step with them.

`python -m monitoring.i18n.catalog` adds the new msgids of the code to every catalog (with
an empty translation for a translator to fill) and marks obsolete ones; the tests fail while
any message lacks its translation or the code uses a message the catalog lacks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from monitoring.i18n import DOMAIN, LANGUAGES, SOURCE_LANGUAGE, po_path

MONITORING_DIR = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract_messages(source_dir: Path = MONITORING_DIR) -> Catalog:
    """Every message marked in the Python files under `source_dir` (`_`, `gettext`,
    `ngettext`, `N_`), as a Babel catalog (the template a .po is updated from)."""
    template = Catalog(domain=DOMAIN, project="hireloop")
    for filename, lineno, message, comments, context in extract_from_dir(
            source_dir, method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments,
                     context=context)
    return template


def read_catalog(language: str) -> Catalog:
    with open(po_path(language), "rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def untranslated(catalog: Catalog) -> list[str]:
    """Msgids with no translation, or only a fuzzy one (gettext ignores fuzzy entries)."""
    return [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]


def missing_messages(template: Catalog, catalog: Catalog) -> list[str]:
    """Messages the code uses that the catalog lacks."""
    return [m.id for m in template if m.id and m.id not in catalog]


def unused_messages(template: Catalog, catalog: Catalog) -> list[str]:
    """Messages of the catalog the code no longer uses."""
    return [m.id for m in catalog if m.id and m.id not in template]


def placeholder_errors(catalog: Catalog) -> list[str]:
    """Translations whose {placeholders} differ from their msgid's."""
    out = []
    for m in catalog:
        if m.id and m.string and _fields(m.id) != _fields(m.string):
            out.append(f"{m.id!r}: {sorted(_fields(m.string))} != {sorted(_fields(m.id))}")
    return out


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in Formatter().parse(text) if name is not None}


def update_catalogs(source_dir: Path = MONITORING_DIR) -> list[Path]:
    """Merge the extracted messages into each translated catalog; returns the files written."""
    template = extract_messages(source_dir)
    written = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(language)
        if path.exists():
            catalog = read_catalog(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, project="hireloop")
        catalog.update(template, no_fuzzy_matching=True)
        with open(path, "wb") as fh:
            write_po(fh, catalog, omit_header=False, sort_output=False, ignore_obsolete=True,
                     include_previous=False, include_lineno=False, width=96)
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in update_catalogs():
        sys.stdout.write(f"updated {written_path}\n")
