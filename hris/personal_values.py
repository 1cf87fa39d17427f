"""Does a value look like personal data? The last guard before a value reaches a person.

Values of personal columns (the rule spec's `personal`) are never shown; this catches the
ones that sit where they should not (an email typed into a vocabulary column, a phone
number in a free-text field), so that reports and pages that quote export values
(`hireloop import --check`, the steward's pages) can withhold them. It errs on the side of
withholding: a false alarm hides one value from a report, a miss leaks a person.

The one definition of "looks like personal data": its patterns are read from
dbt_project.yml (vars.personal_patterns), where the dbt macros `looks_personal` and
`vocabulary_value` read them too. `PersonalNeedles` adds what no pattern can know, the raw
tables' own names, ids, emails and phones, found exactly (monitoring.personal_scan).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DBT_PROJECT_YML = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


def _load_patterns(path: Path = DBT_PROJECT_YML) -> dict[str, str]:
    with open(path) as fh:
        return yaml.safe_load(fh)["vars"]["personal_patterns"]


# The patterns live in dbt_project.yml (vars.personal_patterns): the dbt quarantine models
# evaluate the same strings in PostgreSQL (macro looks_personal), so a value the pages would
# hide is withheld from quarantine too. Each is valid in Python `re` and PostgreSQL AREs.
_PATTERNS = _load_patterns()
_EMAIL = re.compile(_PATTERNS["email"])
# A run of phone characters that starts and ends with a digit (an optional leading +).
_PHONE_RUN = re.compile(_PATTERNS["phone_run"])
# National ids with letters: China's 18-character resident id (17 digits + digit/X), the
# UK National Insurance number; other ids are digit runs, caught below.
_NATIONAL_ID = re.compile(_PATTERNS["national_id"])
# A token with letters and at least 6 digits (passport, account, staff or candidate numbers:
# source ids never leave `raw` either).
_ID_TOKEN = re.compile(_PATTERNS["id_token"])
_DATE = re.compile(_PATTERNS["date"])
_DECIMAL = re.compile(_PATTERNS["decimal"])
_MIN_PHONE_DIGITS = int(_PATTERNS["min_phone_digits"])
# a bare number this long is an id or a phone, not a value of a vocabulary
_LONG_DIGITS = int(_PATTERNS["long_digits"])


# What quarantine and staging write in place of a value that is, or looks, personal (dbt
# macros hris_reject_value and vocabulary_value write the same literal).
REDACTED = "<redacted>"


def _looks_like_phone(run: str) -> bool:
    run = run.strip()
    digits = sum(ch.isdigit() for ch in run)
    if digits < _MIN_PHONE_DIGITS or _DATE.match(run):
        return False
    if _DECIMAL.match(run):
        # A plain number: an amount unless it is as long as an id or a phone number.
        return digits >= _LONG_DIGITS
    return True  # digits with separators or a leading +: a phone (or an id written so)


def looks_personal(text: object) -> bool:
    """True when `text` (any value; None is not) contains an email address, a phone number
    or a national-id-like code. Dates and ordinary numbers (amounts, scores, counts under
    nine digits) are not flagged."""
    if text is None:
        return False
    text = str(text)
    if _EMAIL.search(text) or _NATIONAL_ID.search(text) or _ID_TOKEN.search(text):
        return True
    return any(_looks_like_phone(m.group(0)) for m in _PHONE_RUN.finditer(text))


# --- Exact needles: the raw tables' own personal values, to find them anywhere downstream.
# The patterns above say what *looks* personal; the needles say what *is* (a name is only
# found this way: "Hill", "King" or "Young" alone are ordinary words, so a name is matched
# as the whole full name, in either order, never a surname alone).

NEEDLE_KINDS = ("full_name", "national_id", "email", "phone")
_WORD = re.compile(r"\w+")
# A whole token: not the digits after a decimal point, not part of a longer word or number.
_ALNUM_TOKEN = re.compile(r"(?<![\w.])[0-9A-Za-z][0-9A-Za-z\-]*[0-9A-Za-z](?!\w|\.\d)")
_MIN_NAME_CHARS = 2
_MIN_CODE_CHARS = 6  # a shorter id or phone is too common a string to be a person's


def name_tokens(text: object) -> tuple[str, ...]:
    """A full name as the words it is made of, case-folded (the one normalisation)."""
    return tuple(w.casefold() for w in _WORD.findall(str(text)))


def code_form(text: object) -> str:
    """An id or phone as its letters and digits only, upper-cased ('+44 7700 900123' ->
    '447700900123', '908-60-3354' -> '908603354')."""
    return "".join(ch for ch in str(text) if ch.isalnum()).upper()


def mask(value: object) -> str:
    """A value's shape without its content: letters x, digits 9, the rest kept
    ('Ana Li' -> 'xxx xx', '908-60-3354' -> '999-99-9999'). What a report may print in place
    of a value that is, or looks, personal (dbt macro mask_value: the same in SQL)."""
    return "".join("9" if ch.isdigit() else "x" if ch.isalpha() else ch for ch in str(value))


class PersonalNeedles:
    """The personal values of `raw` (names, national ids, emails, phones), normalised, and
    the exact search for them in any text. Built from the values, never stored."""

    def __init__(self, values: dict[str, object]):
        """`values`: kind (NEEDLE_KINDS) -> iterable of raw values (None skipped)."""
        self.names: dict[tuple[str, ...], str] = {}
        self.codes: dict[str, str] = {}
        self.emails: set[str] = set()
        for kind, items in values.items():
            if kind not in NEEDLE_KINDS:
                raise ValueError(f"unknown kind of personal value: {kind!r}")
            for value in items:
                if value is None or (isinstance(value, float) and value != value):
                    continue
                if kind == "full_name":
                    self._add_name(value)
                elif kind == "email":
                    if "@" in str(value):
                        self.emails.add(str(value).strip().casefold())
                else:
                    code = code_form(value)
                    if len(code) >= _MIN_CODE_CHARS:
                        self.codes[code] = kind
        self._longest = max((len(t) for t in self.names), default=0)

    def _add_name(self, value: object) -> None:
        tokens = name_tokens(value)
        if sum(len(t) for t in tokens) < _MIN_NAME_CHARS:
            return
        self.names[tokens] = "full_name"
        if len(tokens) > 1:  # "Martinez, Oliver" / "MARTINEZ Oliver" is the same person
            self.names[tokens[-1:] + tokens[:-1]] = "full_name"

    def __len__(self) -> int:
        return len(self.names) + len(self.codes) + len(self.emails)

    def find(self, text: object) -> list[tuple[str, str]]:
        """(kind, value as found) for every raw personal value in `text`: the whole full
        name as consecutive words, an email, an id or phone as a whole token (separators
        ignored)."""
        if text is None:
            return []
        text = str(text)
        hits: list[tuple[str, str]] = []
        if self.emails and "@" in text:
            hits += [("email", m.group(0)) for m in _EMAIL.finditer(text)
                     if m.group(0).casefold() in self.emails]
        if self.codes:
            seen = set()
            for m in [*_PHONE_RUN.finditer(text), *_ALNUM_TOKEN.finditer(text),
                      *_NATIONAL_ID.finditer(text)]:
                code = code_form(m.group(0))
                if code in self.codes and m.group(0) not in seen:
                    seen.add(m.group(0))
                    hits.append((self.codes[code], m.group(0)))
        if self.names:
            words = [(m.group(0).casefold(), m) for m in _WORD.finditer(text)]
            for i in range(len(words)):
                for n in range(1, min(self._longest, len(words) - i) + 1):
                    key = tuple(w for w, _ in words[i:i + n])
                    if key in self.names:
                        hits.append(("full_name",
                                     text[words[i][1].start():words[i + n - 1][1].end()]))
        return hits


def is_personal(text: object, needles: PersonalNeedles | None = None) -> bool:
    """Looks personal (the patterns) or holds a raw personal value (the needles): the one
    test a value must pass before anything outside `raw` may show it."""
    return looks_personal(text) or bool(needles is not None and needles.find(text))
