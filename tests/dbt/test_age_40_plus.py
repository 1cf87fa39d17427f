"""age_40_plus: derived in staging from the birth date at application, carried to
dim_candidates only (the birth date itself never leaves raw, and no fact table has it)."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def _age_at(birth: str, at: str) -> int:
    b, a = dt.date.fromisoformat(birth), dt.date.fromisoformat(at)
    return a.year - b.year - ((a.month, a.day) < (b.month, b.day))


def test_age_40_plus_is_the_age_at_application_not_a_band(feature_store):
    raw = feature_store.sim.raw["candidates"]
    expected = pd.Series([_age_at(b, a) >= 40 for b, a in zip(
        raw["birth_date"], raw["application_date"], strict=True)],
        index=feature_store.pseudonyms().reindex(raw["candidate_id"]).to_numpy())
    dim = feature_store.read("SELECT candidate_id, age_band, age_40_plus "
                             "FROM marts.dim_candidates").set_index("candidate_id")
    got = dim["age_40_plus"].astype(bool)
    assert len(dim) == len(raw) and dim["age_40_plus"].notna().all()
    assert got.equals(expected.reindex(got.index).astype(bool))
    # the 35-44 band holds both sides of 40: the flag is what the bands cannot give
    assert set(dim.loc[dim["age_band"] == "35-44", "age_40_plus"]) == {True, False}


def test_age_40_plus_reaches_no_fact_table_and_the_birth_date_no_mart(feature_store):
    columns = feature_store.read(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema NOT IN ('raw', 'sim_truth', 'information_schema', 'pg_catalog')")
    flag = columns[columns["column_name"] == "age_40_plus"]
    assert set(flag["table_name"]) == {"base_hris__candidates", "stg_hris__candidates",
                                       "dim_candidates"}
    assert not (columns["column_name"] == "birth_date").any()
