"""Tests of the synthetic HRIS: contract, determinism, label, planted effects, ceilings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

from hris.contract import RAW_TABLES, TRUTH_SCHEMA
from hris.simulator import SimulatedHRIS, p_observable, simulate, write_truth

N = 30_000
SEED = 2024


@pytest.fixture(scope="session")
def sim() -> SimulatedHRIS:
    return simulate(n_candidates=N, seed=SEED)


@pytest.fixture(scope="session")
def truth(sim) -> pd.DataFrame:
    return sim.truth["candidates"].set_index("candidate_id")


@pytest.fixture(scope="session")
def scores(sim) -> pd.DataFrame:
    """Every score with its interview's round, candidate and the candidate's gender and role."""
    iv = sim.raw["interviews"][["interview_id", "candidate_id", "round", "interview_date"]]
    cand = sim.raw["candidates"][["candidate_id", "gender", "applied_role_id", "status"]]
    out = sim.raw["interview_scores"].merge(iv, on="interview_id").merge(cand, on="candidate_id")
    out["score"] = out["score"].astype(float)
    return out


@pytest.fixture(scope="session")
def labels(sim) -> pd.DataFrame:
    """The label recomputed from the raw export alone, as DESIGN.md "The label" defines it."""
    raw = sim.raw
    roles = raw["job_roles"].set_index("role_id")
    emp = raw["employees"].dropna(subset=["role_id"]).set_index("employee_id")
    rv = raw["performance_reviews"].merge(
        emp[["hire_date", "role_id"]], left_on="employee_id", right_index=True)
    rv = rv[rv.period_start >= rv.hire_date].sort_values(["employee_id", "period_start"])
    rv = rv.groupby("employee_id").head(4)
    value, target = rv.kpi_value.astype(float), rv.kpi_target.astype(float)
    higher = roles.loc[rv.role_id, "kpi_higher_is_better"].to_numpy() == "true"
    rv["met"] = np.where(higher, value >= target, value <= target)
    per = rv.groupby("employee_id").agg(n=("met", "size"), share=("met", "mean"))
    hire = pd.to_datetime(emp.hire_date)
    left = pd.to_datetime(emp.termination_date) < hire + pd.DateOffset(years=1)
    out = pd.DataFrame({"left": left}).join(per).fillna({"n": 0})
    out["mature"] = (out.n == 4) | out.left
    out["met_kpi"] = (out.share.fillna(0) >= 0.5) & ~out.left
    cand = raw["candidates"].dropna(subset=["employee_id"]).set_index("employee_id")
    out["candidate_id"] = cand.loc[out.index, "candidate_id"]
    return out.set_index("candidate_id")


def _observed(scores: pd.DataFrame, prefix: str, scored_by: str = "interviewer") -> pd.DataFrame:
    sel = scores[scores.applied_role_id.str.startswith(prefix) & (scores.scored_by == scored_by)]
    return sel.groupby(["candidate_id", "dimension"]).score.mean().unstack()


def _gap_tolerance(a: pd.Series, b: pd.Series, k: float = 4.0) -> float:
    return k * np.sqrt(a.var() / len(a) + b.var() / len(b))


# --- contract and determinism ------------------------------------------------------------

def test_frames_follow_the_contract_as_exported_text(sim):
    assert set(sim.raw) == set(RAW_TABLES)
    for name, frame in sim.raw.items():
        assert tuple(frame.columns) == RAW_TABLES[name].columns, name
        assert len(frame) > 0, name
        for col in frame.columns:
            kinds = set(map(type, frame[col].to_numpy()))
            assert kinds <= {str, type(None)}, (name, col, kinds)
        key = list(RAW_TABLES[name].key)
        assert not frame[key].isna().any().any(), name
        assert not frame.duplicated(key).any(), name


def test_every_categorical_value_is_in_the_contract_vocabulary(sim):
    """The simulator writes the contract's vocabularies (hris.contract via hris.rules), so a
    clean simulated export voids and quarantines nothing for a value."""
    from hris.rules import load_rules

    spec = load_rules()
    checked = 0
    for name, rules in spec.tables.items():
        frame = sim.raw[name]
        for column in rules.vocab:
            values = set(frame[column].dropna().str.strip().str.lower())
            assert values <= set(spec.allowed_values(name, column)), (name, column)
            checked += 1
    assert checked >= 12
    genders = set(sim.raw["candidates"]["gender"])
    assert {"female", "male", "undisclosed"} <= genders and None not in genders


def test_ml_education_levels_are_the_contracts():
    from hris.contract import EDUCATION_LEVELS
    from ml.scoring_input import EDUCATION_LEVELS as ML_LEVELS

    assert ML_LEVELS == EDUCATION_LEVELS


def test_same_seed_same_tables_other_seed_other_tables():
    a, b = simulate(3000, seed=5), simulate(3000, seed=5)
    for name in a.raw:
        pd.testing.assert_frame_equal(a.raw[name], b.raw[name])
    for name in a.truth:
        pd.testing.assert_frame_equal(a.truth[name], b.truth[name])
    c = simulate(3000, seed=6)
    assert not a.raw["interview_scores"].equals(c.raw["interview_scores"])
    assert not a.raw["candidates"].equals(c.raw["candidates"])


def test_personal_ids_unique_and_synthetic(sim):
    people = pd.concat([sim.raw["candidates"], sim.raw["employees"]])
    per_person = people.drop_duplicates(["national_id", "full_name", "email"])
    assert per_person.national_id.is_unique
    assert per_person.national_id.str.match(r"^9\d\d-\d\d-\d{4}$").all()
    assert per_person.email.str.endswith("@example.com").all()
    assert 0.1 <= sim.raw["candidates"].race_ethnicity.isna().mean() <= 0.3   # voluntary


# --- the funnel and the timeline ----------------------------------------------------------

def test_funnel_statuses_and_timeline(sim):
    cand, iv = sim.raw["candidates"], sim.raw["interviews"]
    share = cand.status.value_counts(normalize=True)
    assert 0.15 <= share["hired"] <= 0.22
    assert 0.04 <= share["withdrawn"] <= 0.12
    assert share["pending"] > 0
    assert (cand.employee_id.notna() == (cand.status == "hired")).all()
    as_of = sim.as_of.isoformat()
    assert (iv.interview_date <= as_of).all()
    assert (sim.raw["performance_reviews"].submitted_at <= as_of).all()
    # every candidate with a business round passed hr; director only after business
    rounds = iv.groupby("candidate_id")["round"].agg(set)
    assert all("hr" in r for r in rounds if "business" in r)
    assert all("business" in r for r in rounds if "director" in r)
    pending = cand[cand.status == "pending"].candidate_id
    assert iv.candidate_id.isin(pending).any()           # open processes have interviews
    hired = cand[cand.status == "hired"].candidate_id
    assert set(iv[iv["round"] == "director"].candidate_id) >= set(hired)
    roles = sim.raw["job_roles"]
    assert (roles.kpi_higher_is_better == "false").any()
    assert set(roles.role_family) == {"sales", "customer_service", "rnd", "manufacturing"}


def test_raw_label_equals_truth_counterfactual(sim, truth, labels):
    mature = labels[labels.mature]
    assert len(mature) > 1000
    assert (mature.met_kpi == truth.loc[mature.index, "met_kpi"]).all()
    assert (mature.left == truth.loc[mature.index, "left_first_year"]).all()
    # staff exist as employees without a candidate row
    emp = sim.raw["employees"]
    staff = emp[emp.role_id.isna()]
    assert len(staff) > 0 and not staff.employee_id.isin(sim.raw["candidates"].employee_id).any()
    assert (staff.hire_date < "2022-01-01").all()


# --- planted effects, recovered from the raw export ---------------------------------------

def test_sales_validity_is_realistic(scores, labels):
    obs = _observed(scores, "SAL-")
    hires = labels[labels.mature].index.intersection(obs.index)
    att = labels.loc[hires, "share"].fillna(0)
    for dim in ("communication", "persuasion"):
        r = np.corrcoef(obs.loc[hires, dim], att)[0, 1]
        assert 0.15 <= r <= 0.5, (dim, r, len(hires))


def test_gender_bias_only_in_human_communication(sim, scores, truth):
    hr = scores[(scores["round"] == "hr") & (scores.dimension == "communication")]
    human = hr[hr.scored_by == "interviewer"]
    m, f = (human[human.gender == g].score for g in ("male", "female"))
    planted = json.loads(sim.truth["parameters"].parameters[0])["communication_bias_points"]
    # rounding to integers and clipping at 0..10 attenuate the gap a little
    assert abs((m.mean() - f.mean()) - planted) < _gap_tolerance(m, f) + 0.1
    ai = hr[hr.scored_by == "ai"]
    m, f = (ai[ai.gender == g].score for g in ("male", "female"))
    assert abs(m.mean() - f.mean()) < _gap_tolerance(m, f)
    m, f = (truth[truth.gender == g].ability_communication for g in ("male", "female"))
    assert abs(m.mean() - f.mean()) < _gap_tolerance(m, f)
    # other human dimensions show no gap
    other = scores[(scores["round"] == "hr") & (scores.scored_by == "interviewer")
                   & (scores.dimension == "teamwork")]
    m, f = (other[other.gender == g].score for g in ("male", "female"))
    assert abs(m.mean() - f.mean()) < _gap_tolerance(m, f)


def test_rnd_delivery_tracks_technical_depth_not_logic(scores, labels, truth):
    obs = _observed(scores, "RND-")
    hires = labels[labels.mature].index.intersection(obs.index)
    att = labels.loc[hires, "share"].fillna(0)
    r_tech = np.corrcoef(obs.loc[hires, "technical_depth"], att)[0, 1]
    r_logic = np.corrcoef(obs.loc[hires, "logic"], att)[0, 1]
    assert r_tech > r_logic + 0.1, (r_tech, r_logic)
    rnd = truth[truth.role_family == "rnd"]
    att = rnd.kpi_attainment.fillna(0)
    assert (np.corrcoef(rnd.ability_technical_depth, att)[0, 1]
            > np.corrcoef(rnd.ability_logic, att)[0, 1] + 0.15)


def test_rnd_ratings_overweight_logic(sim, scores):
    iv = sim.raw["interviews"].set_index("interview_id")
    rnd = scores[scores.applied_role_id.str.startswith("RND-")
                 & (scores.scored_by == "interviewer")]
    wide = rnd.pivot_table(index="interview_id", columns="dimension", values="score")
    rating = iv.loc[wide.index, "overall_rating"].astype(float)
    assert wide["logic"].corr(rating) > wide["technical_depth"].corr(rating) + 0.1


def test_manufacturing_key_question_lifts_yield(sim, truth):
    q = sim.raw["interview_questions"]
    key = q[(q.role_family == "manufacturing") & (q.is_key_question == "true")].question_id
    assert len(key) == 1
    ans = sim.raw["interview_answers"]
    ans = ans[ans.question_id.isin(key)].merge(
        sim.raw["interviews"][["interview_id", "candidate_id"]], on="interview_id")
    att = truth.loc[ans.candidate_id, "kpi_attainment"].fillna(0).to_numpy()
    full = ans.answered_fully.to_numpy() == "true"
    assert att[full].mean() > att[~full].mean() + 0.05


# --- the ceilings ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sample(sim, truth) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    ids = truth.index[np.sort(rng.choice(len(truth), 3000, replace=False))]
    out = truth.loc[ids, ["p_true", "met_kpi"]].copy()
    out["p_obs"] = p_observable(sim, ids, draws=256, seed=1)
    return out


def test_p_observable_is_calibrated(sample):
    assert sample.p_obs.between(0, 1).all()
    bins = pd.qcut(sample.p_obs, 10, labels=False)
    g = sample.assign(y=sample.met_kpi.astype(float)).groupby(bins).mean()
    assert (g.p_obs - g.y).abs().mean() < 0.05
    # against the truth's own probability the check is much sharper
    assert (g.p_obs - g.p_true).abs().mean() < 0.02


def test_p_observable_lies_between_rating_and_p_true(sim, sample):
    iv = sim.raw["interviews"]
    hr = iv[iv["round"] == "hr"].set_index("candidate_id").overall_rating.astype(int)
    s = sample.loc[sample.index.intersection(hr.index)]
    y = s.met_kpi.astype(int)
    auc_rating = roc_auc_score(y, hr.loc[s.index])
    auc_obs = roc_auc_score(y, s.p_obs)
    auc_true = roc_auc_score(y, s.p_true)
    assert auc_rating < auc_obs < auc_true, (auc_rating, auc_obs, auc_true)


def test_p_observable_beats_a_simple_model_on_the_same_evidence(sim, truth, scores, sample):
    """A logistic regression on mean scores, even trained on every other applicant's
    counterfactual label (more than any real model sees), must not beat the ceiling."""
    wide = scores.pivot_table(index="candidate_id", columns=["scored_by", "dimension"],
                              values="score", aggfunc="mean")
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    x = wide.reindex(truth.index)
    x = pd.concat([x.notna().astype(float).add_suffix("_seen"), x.fillna(x.mean()),
                   pd.get_dummies(truth.role_id, dtype=float)], axis=1)
    train = truth.index.difference(sample.index)
    model = LogisticRegression(max_iter=3000).fit(x.loc[train], truth.loc[train, "met_kpi"])
    p_lr = model.predict_proba(x.loc[sample.index])[:, 1]
    y = sample.met_kpi.astype(int)
    assert roc_auc_score(y, sample.p_obs) > roc_auc_score(y, p_lr)
    assert log_loss(y, sample.p_obs) < log_loss(y, p_lr)


# --- scenarios and the truth schema ---------------------------------------------------------

def test_scenarios_change_the_world_after_the_change_date():
    def after(s: SimulatedHRIS) -> pd.Series:
        t = s.truth["candidates"]
        return t.application_date >= s.world.change_date

    base = simulate(6000, seed=3)
    shifted = simulate(6000, seed=3, scenario="covariate_shift")
    t = shifted.truth["candidates"]
    gap = (t[after(shifted)].ability_technical_depth.mean()
           - t[~after(shifted)].ability_technical_depth.mean())
    assert gap < -0.25
    drift = simulate(6000, seed=3, scenario="concept_drift")
    t = drift.truth["candidates"]
    sales = t[t.role_family == "sales"]
    late = after(drift)[sales.index]
    r = [np.corrcoef(s.ability_data_awareness, s.kpi_attainment.fillna(0))[0, 1]
         for s in (sales[~late], sales[late])]
    assert r[1] > r[0] + 0.2
    harsh = simulate(6000, seed=3, scenario="rater_drift")

    def late_minus_early(s: SimulatedHRIS) -> float:
        sc = s.raw["interview_scores"].merge(s.raw["interviews"], on="interview_id")
        sc = sc[sc.scored_by == "interviewer"]
        late = sc.interview_date >= s.world.change_date.isoformat()
        return sc[late].score.astype(float).mean() - sc[~late].score.astype(float).mean()

    assert late_minus_early(harsh) < late_minus_early(base) - 0.4
    # performance is the same world: the truth's p_true does not depend on rater drift
    pd.testing.assert_series_equal(harsh.truth["candidates"].p_true,
                                   base.truth["candidates"].p_true)
    with pytest.raises(ValueError, match="scenario"):
        simulate(100, scenario="nonsense")


def test_write_truth_creates_sim_truth(new_db):
    small = simulate(1500, seed=9)
    conn = new_db()
    with conn.cursor() as cur:
        write_truth(cur, small)
        write_truth(cur, small)            # idempotent: drop and recreate
        cur.execute(f"SELECT count(*), avg(p_true), bool_or(met_kpi) "
                    f"FROM {TRUTH_SCHEMA}.candidates")
        n, mean_p, any_met = cur.fetchone()
        cur.execute(f"SELECT parameters::json ->> 'communication_bias_points' "
                    f"FROM {TRUTH_SCHEMA}.parameters")
        bias = float(cur.fetchone()[0])
    conn.commit()
    assert n == 1500 and any_met
    assert mean_p == pytest.approx(small.truth["candidates"].p_true.mean())
    assert bias == small.world.communication_bias_points
