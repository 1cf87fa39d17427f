"""The hiring funnel: hr -> business -> director rounds, scores, answers and decisions.

Human scores measure ability with noise and the interviewer's persistent leniency; women's
human `communication` scores are lowered by the planted bias. The AI scores a share of
interviews with its own noise and no bias. Decisions (advance, hire) use only the recorded
evidence (the interviewer's scores turned into an impression, plus noise independent of
ability), so outcomes are observed for hires only: range restriction, as in a real HRIS.
Withdrawals, offer declines, interviewer assignment and durations are independent of ability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hris.contract import ROLE_FAMILIES, ROUNDS
from hris.simulator.world import DIM_INDEX, NO_DAY, World

N_ASSESSED = 6
# questions per round: hr: 2 behavioral; business: key kpi_scenario + kpi_scenario + okr_open;
# director: okr_open + behavioral
_QUESTIONS_PER_ROUND = 3
STATUS = ("hired", "rejected", "withdrawn", "pending")
# Days from the last step to the candidate's final day: a rejection is sent, an offer declined,
# a hire starts (one definition for the funnel and for the simulated person who overrides it).
REJECT_DAYS, DECLINE_DAYS, START_DAYS = (2, 8), (3, 11), (14, 43)


@dataclass
class Funnel:
    """Every interview that took place by as_of (rows sorted by date) and each candidate's fate."""

    cand: np.ndarray            # (m,) candidate index
    round: np.ndarray           # (m,) 0 hr, 1 business, 2 director
    interviewer: np.ndarray     # (m,) staff row
    day: np.ndarray             # (m,) days since 1970-01-01
    duration: np.ndarray
    rating: np.ndarray          # 1..5
    recommendation: np.ndarray  # index into RECOMMENDATIONS
    dims: np.ndarray            # (m, 6) dimension index of each score column
    human: np.ndarray           # (m, 6) integer scores 0..10
    ai: np.ndarray              # (m,) bool: the AI also scored this interview
    ai_scores: np.ndarray       # (m, 6) scores 0..10, one decimal (nan where no AI)
    question: np.ndarray        # (m, 3) question index, -1 where none
    full: np.ndarray            # (m, 3) answered fully
    seconds: np.ndarray         # (m, 3) response seconds
    status: np.ndarray          # (n,) index into STATUS as of as_of
    hire_day: np.ndarray        # (n,) days since epoch, NO_DAY unless hired
    manager: np.ndarray         # (n,) staff row of the hiring manager (business interviewer)
    final_day: np.ndarray | None = None  # (n,) the day the candidate's process ends


def funnel_as_of(funnel: Funnel, as_of: int) -> Funnel:
    """What the HR system holds on day `as_of` of a funnel run to its end: the interviews
    held by then; a candidate whose process ends later is pending, not yet hired."""
    keep = funnel.day <= as_of
    open_ = funnel.final_day > as_of
    rows = {k: getattr(funnel, k)[keep] for k in _INTERVIEW_FIELDS}
    return Funnel(**rows, status=np.where(open_, STATUS.index("pending"), funnel.status),
                  hire_day=np.where(open_, NO_DAY, funnel.hire_day), manager=funnel.manager,
                  final_day=funnel.final_day)


_INTERVIEW_FIELDS = ("cand", "round", "interviewer", "day", "duration", "rating",
                     "recommendation", "dims", "human", "ai", "ai_scores", "question", "full",
                     "seconds")


def assessed_matrix(world: World) -> np.ndarray:
    """(4, 6) dimension indices assessed per role family."""
    return np.array([[DIM_INDEX[d] for d in world.assessed[f]] for f in ROLE_FAMILIES])


def impression_weights(world: World) -> np.ndarray:
    """(4, 6) weight of each assessed dimension in the interviewer's overall impression."""
    w = np.ones((len(ROLE_FAMILIES), N_ASSESSED))
    for i, fam in enumerate(ROLE_FAMILIES):
        for j, dim in enumerate(world.assessed[fam]):
            w[i, j] = world.impression_weights[fam].get(dim, 1.0)
    return w / w.sum(1, keepdims=True)


def _question_slots(world: World) -> tuple[np.ndarray, ...]:
    """Per family, the question indices by role: behavioral, key kpi, other kpi, okr."""
    qs = world.questions
    out = {"behavioral": [], "key": [], "kpi": [], "okr": []}
    for fam in ROLE_FAMILIES:
        idx = [i for i, q in enumerate(qs) if q.family == fam]
        out["behavioral"].append([i for i in idx if qs[i].scenario_type == "behavioral"])
        out["key"].append([i for i in idx if qs[i].is_key])
        out["kpi"].append([i for i in idx if qs[i].scenario_type == "kpi_scenario"
                           and not qs[i].is_key])
        out["okr"].append([i for i in idx if qs[i].scenario_type == "okr_open"])
    return tuple(np.array(out[k]) for k in ("behavioral", "key", "kpi", "okr"))


def _pick(table: np.ndarray, fam: np.ndarray, rng: np.random.Generator, k: int = 1
          ) -> np.ndarray:
    """k distinct random columns of table[fam] per row."""
    order = np.argsort(rng.random((len(fam), table.shape[1])), axis=1)[:, :k]
    return np.take_along_axis(table[fam], order, axis=1)


def _ask(world: World, rnd: int, fam: np.ndarray, abil: np.ndarray, rng: np.random.Generator):
    beh, key, kpi, okr = _question_slots(world)
    m = len(fam)
    if rnd == 0:
        q = np.concatenate([_pick(beh, fam, rng, 2), np.full((m, 1), -1)], axis=1)
    elif rnd == 1:
        q = np.concatenate([key[fam], _pick(kpi, fam, rng), _pick(okr, fam, rng)], axis=1)
    else:
        q = np.concatenate([_pick(okr, fam, rng), _pick(beh, fam, rng), np.full((m, 1), -1)],
                           axis=1)
    diff = np.array([x.difficulty for x in world.questions])
    slope = np.array([x.slope for x in world.questions])
    base = np.array([x.base_seconds for x in world.questions])
    dim = np.array([DIM_INDEX[x.dimension] for x in world.questions])
    qq = np.maximum(q, 0)
    a = np.take_along_axis(abil, dim[qq], axis=1)
    full = rng.standard_normal(q.shape) < diff[qq] + slope[qq] * a
    seconds = np.rint(base[qq] * np.exp(0.25 * full + rng.normal(0, 0.35, q.shape)))
    asked = q >= 0
    return q, full & asked, np.where(asked, seconds, 0).astype(np.int64)


def run_funnel(world: World, fam: np.ndarray, app_day: np.ndarray, female: np.ndarray,
               abilities: np.ndarray, rng: np.random.Generator) -> Funnel:
    """Every candidate's process to its end, as the HR system holds it on `world.as_of`
    (`funnel_as_of`); `final_day` says when each process ends."""
    n = len(fam)
    as_of = (np.datetime64(world.as_of, "D") - np.datetime64(0, "D")).astype(int)
    change = (np.datetime64(world.change_date, "D") - np.datetime64(0, "D")).astype(int)
    staff = world.staff
    fam_of_staff = staff.family.to_numpy()
    leniency = staff.leniency.to_numpy()
    pools = [np.flatnonzero(staff.kind.to_numpy() == "recruiter")]
    pools_by_fam = {kind: [np.flatnonzero((fam_of_staff == f) & (staff.kind.to_numpy() == kind))
                           for f in ROLE_FAMILIES] for kind in ("manager", "director")}
    dims_fam = assessed_matrix(world)
    w_imp = impression_weights(world)
    comm = DIM_INDEX["communication"]
    thresholds = world.pass_thresholds

    active = np.ones(n, bool)             # still in process before this round
    day = app_day.copy()
    final_day = np.full(n, np.iinfo(np.int64).max // 4)
    status = np.full(n, STATUS.index("pending"))
    imp_sum = np.zeros(n)
    manager = np.full(n, -1)
    hire_day = np.full(n, NO_DAY)
    parts = []
    gaps = ((5, 21), (5, 21), (4, 15))
    for rnd in range(len(ROUNDS)):
        withdraw = active & (rng.random(n) < world.stage_withdraw)
        final_day = np.where(withdraw, day + rng.integers(1, 10, n), final_day)
        status = np.where(withdraw, STATUS.index("withdrawn"), status)
        active &= ~withdraw
        idx = np.flatnonzero(active)
        m = len(idx)
        f = fam[idx]
        day[idx] += rng.integers(*gaps[rnd], m)
        if rnd == 0:
            who = pools[0][rng.integers(0, len(pools[0]), m)]
        else:
            kind = "manager" if rnd == 1 else "director"
            who = np.empty(m, np.int64)
            for k in range(len(ROLE_FAMILIES)):
                sel = f == k
                pool = pools_by_fam[kind][k]
                who[sel] = pool[rng.integers(0, len(pool), sel.sum())]
            if rnd == 1:
                manager[idx] = who
        dims = dims_fam[f]
        abil = np.take_along_axis(abilities[idx], dims, axis=1)
        len_eff = leniency[who] + world.rater_drift_shift * (day[idx] >= change)
        raw = world.human_centre + world.human_scale * (
            abil + len_eff[:, None] + rng.normal(0, world.human_noise_sd, (m, N_ASSESSED)))
        raw -= world.communication_bias_points * (female[idx][:, None] & (dims == comm))
        human = np.clip(np.rint(raw), 0, 10).astype(np.int64)
        ai = rng.random(m) < world.ai_share
        ai_raw = world.ai_centre + world.ai_scale * (
            abil + rng.normal(0, world.ai_noise_sd, (m, N_ASSESSED)))
        ai_scores = np.where(ai[:, None], np.clip(np.round(ai_raw, 1), 0, 10), np.nan)
        z = (human - world.human_centre) / world.human_scale
        imp = (z * w_imp[f]).sum(1) + rng.normal(0, world.impression_noise_sd, m)
        rating = 1 + np.digitize(imp, [-0.9, -0.3, 0.3, 0.9])
        rec = np.where(imp > 0.8, 0, np.where(imp > thresholds[rnd], 1,
                                                 np.where(imp > -0.8, 2, 3)))
        q, full, secs = _ask(world, rnd, f, abilities[idx], rng)
        duration = {0: (25, 46), 1: (40, 76), 2: (30, 61)}[rnd]
        parts.append(dict(cand=idx, round=np.full(m, rnd), interviewer=who, day=day[idx].copy(),
                          duration=rng.integers(*duration, m), rating=rating,
                          recommendation=rec, dims=dims, human=human, ai=ai,
                          ai_scores=ai_scores, question=q, full=full, seconds=secs))
        imp_sum[idx] += imp
        passed = imp_sum[idx] / (rnd + 1) > thresholds[rnd]
        failed = idx[~passed]
        final_day[failed] = day[failed] + rng.integers(*REJECT_DAYS, len(failed))
        status[failed] = STATUS.index("rejected")
        active[failed] = False
    offered = np.flatnonzero(active)
    decline = rng.random(len(offered)) < world.offer_decline
    final_day[offered] = np.where(
        decline, day[offered] + rng.integers(*DECLINE_DAYS, len(offered)),
        day[offered] + rng.integers(*START_DAYS, len(offered)))
    status[offered] = np.where(decline, STATUS.index("withdrawn"), STATUS.index("hired"))
    hire_day[offered[~decline]] = final_day[offered[~decline]]

    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cat["round"], cat["cand"], cat["day"]))
    cat = {k: v[order] for k, v in cat.items()}
    whole = Funnel(**cat, status=status, hire_day=hire_day, manager=manager, final_day=final_day)
    return funnel_as_of(whole, as_of)
