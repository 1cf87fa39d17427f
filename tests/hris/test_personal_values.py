"""looks_personal: emails, phones and national ids are flagged, vocabulary values are not."""

from __future__ import annotations

import pytest

from hris.personal_values import PersonalNeedles, looks_personal, mask
from hris.simulator import simulate


@pytest.mark.parametrize("text", [
    "oliver.martinez.1@example.com",
    "write to Jane.Doe+hr@corp.example.co.uk please",
    "+44 7700 900585",
    "13812345678",  # a Chinese mobile number, no separators
    "(555) 123-4567",
    "555-1234",
    "908-60-3354",  # a US social security number
    "11010519491231002X",  # a Chinese resident id
    "110105194912310021",
    "QQ 12 34 56 C",  # a UK National Insurance number
    "AB123456C",
    "E12345678",  # a passport number
    "id: 123456789",
    "C0000001",  # an HR system's own person id: it never leaves `raw` either
    13812345678,  # not text: a value as a page may hold it
])
def test_personal_data_is_flagged(text):
    assert looks_personal(text)


@pytest.mark.parametrize("text", [
    None, "", "hire", "strong_no_hire", "男", "本科", "销售", "customer_service",
    "2024/03/15", "2024-03-15", "15.03.2024", "100000", "116561.55", "0.8", "11", "n/a",
    "R-SAL", "Q-RND-06", "SAL-SDR", "level 2", "-3",
    "Covered root cause, steps taken and how success was measured.", 116561.55, 7, False,
])
def test_vocabulary_values_dates_and_numbers_are_not(text):
    assert not looks_personal(text)


def test_every_personal_value_of_a_simulated_export_is_flagged():
    """The simulator writes the contract's personal columns as real exports do: every
    email, phone and national id it makes must be caught (names are caught by column)."""
    raw = simulate(n_candidates=300, seed=11).raw
    for table in ("candidates", "employees"):
        for column in ("email", "phone", "national_id"):
            values = raw[table][column].dropna()
            missed = [v for v in values if not looks_personal(v)]
            assert not missed, f"{table}.{column}: {len(missed)} not flagged"


NEEDLES = PersonalNeedles({
    "full_name": ["Grace Hill", "Sam King", "Alexandra Testperson1"],
    "national_id": ["908-60-3354", "NID0000001X"], "email": ["grace.hill.7@example.com"],
    "phone": ["+44 7700 900123", None],
})


@pytest.mark.parametrize(("text", "kinds"), [
    ("Interview notes: Grace Hill was late", ["full_name"]),
    ("HILL, GRACE", ["full_name"]),  # surname first, any case
    ("up the hill, the King of sales; young graces", []),  # surnames alone are words
    ("Alexandra Testperson10", []),  # another person: whole words only
    ("mail grace.hill.7@example.com", ["email", "full_name"]),  # the local part is the name
    ("tel 447700900123", ["phone"]), ("+44 (7700) 900-123", ["phone"]),
    ("ssn 908603354", ["national_id"]), ('{"id": "NID0000001X"}', ["national_id"]),
    ("score 0.908603354", []),  # digits inside a number are not a token
])
def test_needles_find_raw_values_as_whole_names_and_codes(text, kinds):
    assert sorted(k for k, _ in NEEDLES.find(text)) == sorted(kinds)


def test_mask_keeps_the_shape_only():
    assert mask("Grace Hill") == "xxxxx xxxx"
    assert mask("+44 7700 900123") == "+99 9999 999999"
    assert mask("王伟 2024/02/31") == "xx 9999/99/99"
