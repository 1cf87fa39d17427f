"""Does a value look like personal data? (emails, phone numbers, national ids)

Used wherever a value from an export could be shown (the steward's page, check printouts):
a value of a personal column is never shown, and neither is one that merely looks personal,
whatever column it sits in (an email typed into a role title, an id number in a comment).
Minimal version by the pages helper; the check helper's fuller one replaces it.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# national ids: CN resident id (17 digits + check), US SSN; any run of 7+ digits
# (phone numbers, ids of most countries), separators allowed between digit groups
_CN_ID = re.compile(r"\b\d{17}[\dXx]\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s()-]?\d){6,}")
# dates are not phone numbers: removed before the digit-run test
_DATE = re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")


def looks_personal(text: object) -> bool:
    """True when `text` contains something shaped like an email, a phone number or an id."""
    if text is None:
        return False
    value = str(text)
    return bool(_EMAIL.search(value) or _CN_ID.search(value) or _SSN.search(value)
                or _DIGIT_RUN.search(_DATE.sub(" ", value)))
