"""looks_personal: emails, phones and national ids are flagged, vocabulary values are not."""

from __future__ import annotations

import pytest

from hris.personal_values import looks_personal
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
