"""Does a value look like personal data? The last guard before a value reaches a person.

Values of personal columns (the rule spec's `personal`) are never shown; this catches the
ones that sit where they should not (an email typed into a vocabulary column, a phone
number in a free-text field), so that reports and pages that quote export values
(`hireloop import --check`, the steward's pages) can withhold them. It errs on the side of
withholding: a false alarm hides one value from a report, a miss leaks a person.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[A-Za-z]{2,}")
# A run of phone characters that starts and ends with a digit (an optional leading +).
_PHONE_RUN = re.compile(r"(?<![\w.])\+?\d[\d \-().\/]{4,}\d(?![\w])")
# National ids with letters: China's 18-character resident id (17 digits + digit/X), the
# UK National Insurance number; other ids are digit runs, caught below.
_NATIONAL_ID = re.compile(
    r"(?<![0-9A-Za-z])(\d{17}[\dXx]|[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}"
    r"\s?[A-Da-d])(?![0-9A-Za-z])"
)
# A token with letters and at least 6 digits (passport, account, staff or candidate numbers:
# source ids never leave `raw` either).
_ID_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(?=[0-9A-Za-z-]*[A-Za-z])(?:[A-Za-z-]*\d){6,}[0-9A-Za-z-]*"
)
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")
_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_MIN_PHONE_DIGITS = 7
_LONG_DIGITS = 9  # a bare number this long is an id or a phone, not a value of a vocabulary


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
