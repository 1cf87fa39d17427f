"""Message catalogs for the pages HR people read (gettext, compiled with Babel).

Every string of an HR page goes through a `Translator` (`_ = translator(language).gettext`),
never a literal in the markup: the catalog (`locale/<language>/LC_MESSAGES/hireloop.po`) holds
its translations, and `monitoring.i18n.catalog` extracts what the code uses so a test can
hold the two equal. English is the source language (the msgids); the language is chosen by
one setting in orchestration/config.py and passed down as an argument.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "hireloop"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "zh")
# The HTML `lang` of each language (zh: Simplified Chinese, the seed market's script).
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def N_(message: str) -> str:
    """Mark a module-level string for extraction; it is translated where it is shown."""
    return message


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def check_language(language: str) -> str:
    """`language` if it is one we have a catalog for, else a ValueError saying what to set."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown page language {language!r}: set HIRELOOP_LANGUAGE to one "
                         f"of {', '.join(LANGUAGES)}")
    return language


@dataclass(frozen=True)
class Translator:
    """The messages of one language; `gettext` returns the msgid where none is translated."""

    language: str
    catalog: gettext.NullTranslations

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.language]

    def gettext(self, message: str) -> str:
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)


@cache
def translator(language: str = SOURCE_LANGUAGE) -> Translator:
    """The Translator of `language` (en | zh); the .po is compiled in memory with Babel,
    so no compiled .mo can go stale beside it."""
    check_language(language)
    if language == SOURCE_LANGUAGE:
        return Translator(language, gettext.NullTranslations())
    with open(po_path(language), "rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translator(language, gettext.GNUTranslations(buffer))
