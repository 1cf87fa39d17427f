"""Defect injection (hris.simulator.defects): counts, one defect per row, the manifest of
expected quarantine agrees with the dirty tables, knock-on rows, determinism."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hris.contract import RAW_TABLES
from hris.rules import load_rules
from hris.simulator import simulate
from hris.simulator.defects import (
    KINDS,
    MANIFEST_COLUMNS,
    MAX_RATE,
    PARENT_QUARANTINED,
    QUARANTINE,
    RELATIONS,
    VOID,
    VOID_KINDS,
    defect_count,
    dup_seq,
    plant_defects,
)

RATE = 0.05
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DBT_VARS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml").read_text()
)["vars"]


@pytest.fixture(scope="module")
def sim():
    return simulate(n_candidates=600, seed=11)


@pytest.fixture(scope="module")
def planted(sim):
    return plant_defects(sim.raw, RATE, seed=3, as_of=sim.as_of)


def _q(manifest: pd.DataFrame) -> pd.DataFrame:
    """The manifest's expected quarantine (without the voided fields)."""
    return manifest[manifest["action"] == QUARANTINE]


def _located(dirty: pd.DataFrame, table: str, manifest: pd.DataFrame) -> pd.DataFrame:
    """The dirty rows of `table` named by the manifest (key values and _dup_seq)."""
    key = list(RAW_TABLES[table].key)
    rows = dirty.assign(_dup_seq=dup_seq(dirty, RAW_TABLES[table].key))
    rows[key] = rows[key].fillna("")
    want = manifest[manifest["table"] == table][[*key, "_dup_seq", "kind"]].copy()
    want[key] = want[key].fillna("")
    merged = want.merge(rows, on=[*key, "_dup_seq"], how="left", validate="one_to_one",
                        indicator=True)
    assert (merged["_merge"] == "both").all(), table
    return merged


def test_each_kind_is_planted_at_the_rate(sim, planted):
    _, manifest = planted
    counts = manifest.groupby("kind").size()
    for kind in KINDS:
        expected = defect_count(RATE, len(sim.raw[kind.table]))
        assert expected >= 1
        assert counts.get(kind.name, 0) == expected, kind.name
        rows = manifest[manifest["kind"] == kind.name]
        assert set(rows["table"]) == {kind.table}
        assert set(rows["reason"]) == {kind.reason}


def test_defect_count_rounds_and_plants_at_least_one():
    assert defect_count(0.01, 150) == 2  # 1.5 rounds up
    assert defect_count(0.01, 30) == 1  # at least one
    assert defect_count(0.0, 1000) == 0
    assert defect_count(0.1, 0) == 0


def test_manifest_rows_are_distinct_and_in_the_dirty_tables(planted):
    dirty, manifest = planted
    assert list(manifest.columns) == list(MANIFEST_COLUMNS)
    assert set(manifest["action"]) == {QUARANTINE, VOID}
    for _, part in manifest.groupby("action"):
        ids = part.drop(columns=["kind", "reason", "column"])
        assert not ids.duplicated().any()  # at most one defect (or knock-on) per row
        for table in RAW_TABLES:
            if (part["table"] == table).any():
                _located(dirty[table], table, part)


def test_voided_values_break_their_rule_and_are_void_columns(sim, planted):
    dirty, manifest = planted
    rules = load_rules()
    voids = manifest[manifest["action"] == VOID]
    for kind in VOID_KINDS:
        assert kind.column in rules.tables[kind.table].void, kind
        rows = _located(dirty[kind.table], kind.table, voids)
        values = rows.loc[rows["kind"] == kind.name, kind.column]
        assert len(values) == defect_count(RATE, len(sim.raw[kind.table])) >= 1
        allowed = rules.allowed_values(kind.table, kind.column)
        if allowed:
            assert not values.str.lower().isin(allowed).any(), kind
        else:
            assert (pd.to_numeric(values) < 0).all(), kind
    # mostly on rows staging keeps: a voided field does not take its row with it
    quarantined = _q(manifest)[list(voids.columns[:-5])].fillna("")
    on_bad = voids[list(voids.columns[:-5])].fillna("").merge(quarantined, how="inner")
    assert len(on_bad) < len(voids) / 2


def test_planted_values_break_their_rule(sim, planted):
    dirty, manifest = planted
    manifest = _q(manifest)
    as_of = pd.Timestamp(sim.as_of)
    ivs = _located(dirty["interviews"], "interviews", manifest)
    scores = _located(dirty["interview_scores"], "interview_scores", manifest)
    reviews = _located(dirty["performance_reviews"], "performance_reviews", manifest)
    cands = _located(dirty["candidates"], "candidates", manifest)

    def of(frame, kind):
        return frame[frame["kind"] == kind]

    assert not of(cands, "unparseable_date")["application_date"].str.match(_ISO).any()
    assert set(of(scores, "score_out_of_range")["score"]) <= {"11", "-1"}
    assert set(of(scores, "non_numeric_score")["score"]) == {"n/a"}
    assert set(of(ivs, "rating_out_of_range")["overall_rating"]) <= {"0", "6"}
    assert (pd.to_datetime(of(ivs, "future_date")["interview_date"]) > as_of).all()
    assert not of(ivs, "orphan_interview")["candidate_id"].isin(
        dirty["candidates"]["candidate_id"]).any()
    assert (pd.to_numeric(of(reviews, "negative_kpi")["kpi_value"]) < 0).all()
    nulls = of(reviews, "null_id")
    assert (nulls["review_id"] == "").all()  # NULL keys, numbered 1..n like the loader does
    assert sorted(nulls["_dup_seq"]) == list(range(1, len(nulls) + 1))

    hire = dirty["employees"].set_index("employee_id")["hire_date"].map(pd.Timestamp)
    emp_of = dirty["candidates"].set_index("candidate_id")["employee_id"]
    late = of(ivs, "interview_after_hire")
    late_hire = late["candidate_id"].map(emp_of).map(hire)
    late_date = pd.to_datetime(late["interview_date"])
    assert ((late_date > late_hire) & (late_date < as_of)).all()
    early = of(reviews, "review_before_hire")
    assert (pd.to_datetime(early["period_start"]) < early["employee_id"].map(hire)).all()
    assert (pd.to_datetime(early["period_end"]) >= pd.to_datetime(early["period_start"])).all()


def test_duplicates_copy_their_source(planted):
    dirty, manifest = planted
    manifest = _q(manifest)
    ivs = dirty["interviews"]
    ivs_seq = ivs.assign(_dup_seq=dup_seq(ivs, ("interview_id",)))
    exact = _located(ivs, "interviews", manifest)
    exact = exact[exact["kind"] == "exact_duplicate"]
    assert (exact["_dup_seq"] == 2).all()
    first = ivs_seq[ivs_seq["_dup_seq"] == 1].set_index("interview_id")
    cols = [c for c in ivs.columns if c != "interview_id"]
    pd.testing.assert_frame_equal(
        exact.set_index("interview_id")[cols], first.loc[exact["interview_id"], cols],
        check_names=False)

    near = manifest[manifest["kind"] == "near_duplicate"]
    same = ["candidate_id", "round", "interviewer_id", "interview_date"]
    for copy_id in near["interview_id"]:
        copy = ivs[ivs["interview_id"] == copy_id].iloc[0]
        twins = ivs[(ivs[same] == copy[same]).all(axis=1)]
        assert len(set(twins["interview_id"])) == 2
        assert min(twins["interview_id"]) < copy_id  # the lowest id is kept
        # the copy's scores are there and go as parent_quarantined
        copied = manifest[(manifest["table"] == "interview_scores")
                          & (manifest["interview_id"] == copy_id)]
        assert len(copied) > 0 and set(copied["reason"]) == {PARENT_QUARANTINED}


def test_only_planted_rows_change(sim, planted):
    dirty, manifest = planted
    for table in RAW_TABLES:
        clean, bad = sim.raw[table], dirty[table]
        added = manifest[(manifest["table"] == table)
                         & manifest["kind"].isin(["exact_duplicate", "near_duplicate"])]
        copies = (len(bad) - len(clean) - len(added))
        if table == "interview_scores":
            near = manifest.loc[manifest["kind"] == "near_duplicate", "interview_id"]
            copies -= int(bad["interview_id"].isin(near).sum())
        assert copies == 0, table
        changed_kinds = {k.name for k in KINDS if k.table == table and "duplicate" not in k.name}
        n_changed = int(manifest["kind"].isin(changed_kinds).sum())
        # Rows in both (by full value) = clean rows untouched.
        both = clean.merge(bad.drop_duplicates(), how="inner", on=list(clean.columns))
        assert len(both) == len(clean) - n_changed, table


def _quarantined(dirty: pd.DataFrame, table: str, manifest: pd.DataFrame) -> np.ndarray:
    """Per dirty row of `table`: is it in the manifest?"""
    key = list(RAW_TABLES[table].key)
    rows = dirty[key].fillna("").assign(_dup_seq=dup_seq(dirty, RAW_TABLES[table].key))
    want = manifest.loc[manifest["table"] == table, [*key, "_dup_seq"]].fillna("")
    return rows.merge(want, how="left", indicator=True)["_merge"].eq("both").to_numpy()


def test_knock_on_follows_every_quarantined_parent(planted):
    dirty, manifest = planted
    manifest = _q(manifest)
    for child, fk, parent, pk in RELATIONS:
        keys = dirty[parent][pk]
        staged = set(keys[~_quarantined(dirty[parent], parent, manifest)])
        quarantined_only = set(keys.dropna()) - staged
        hit = dirty[child][fk].isin(quarantined_only).to_numpy()
        assert _quarantined(dirty[child], child, manifest)[hit].all(), (child, fk)
    knock = manifest[manifest["reason"] == PARENT_QUARANTINED]
    assert set(knock["table"]) == {"interviews", "interview_scores", "interview_answers"}
    assert set(knock["kind"]) == {"knock_on"}


def test_deterministic_and_pure(sim, planted):
    before = {t: f.copy() for t, f in sim.raw.items()}
    again = plant_defects(sim.raw, RATE, seed=3, as_of=sim.as_of)
    for t in RAW_TABLES:
        pd.testing.assert_frame_equal(planted[0][t], again[0][t])
        pd.testing.assert_frame_equal(sim.raw[t], before[t])
    pd.testing.assert_frame_equal(planted[1], again[1])
    other = plant_defects(sim.raw, RATE, seed=4, as_of=sim.as_of)[1]
    assert not other["interview_id"].equals(planted[1]["interview_id"])


def test_rate_zero_plants_nothing(sim):
    dirty, manifest = plant_defects(sim.raw, 0.0, seed=3, as_of=sim.as_of)
    assert manifest.empty and list(manifest.columns) == list(MANIFEST_COLUMNS)
    for t in RAW_TABLES:
        pd.testing.assert_frame_equal(dirty[t], sim.raw[t])


@pytest.mark.parametrize("rate", [-0.01, MAX_RATE + 0.01, 1.0, "lots", float("nan")])
def test_bad_rate_is_refused(sim, rate):
    with pytest.raises(ValueError, match="defect rate"):
        plant_defects(sim.raw, rate, seed=1, as_of=sim.as_of)


def test_max_rate_is_feasible(sim):
    _, manifest = plant_defects(sim.raw, MAX_RATE, seed=1, as_of=sim.as_of)
    assert (manifest["kind"] == "future_date").sum() == defect_count(
        MAX_RATE, len(sim.raw["interviews"]))


def test_rules_match_the_dbt_spec():
    rules = DBT_VARS["raw_rules"]
    spec = {(child, o["column"], o["parent"], o["parent_column"])
            for child, r in rules.items() for o in r.get("orphans", [])}
    assert set(RELATIONS) == spec
    reasons = DBT_VARS["reject_reasons"]
    assert {k.reason for k in KINDS} | {PARENT_QUARANTINED} <= set(reasons)
    # own-row rules come before parent_quarantined: a child keeps its own reason
    assert reasons[-1] == PARENT_QUARANTINED
    for k in KINDS:
        assert k.column is None or k.column in RAW_TABLES[k.table].columns
