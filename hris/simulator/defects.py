"""Defect injection: dirty a clean simulated export at a known rate, and say what staging
must quarantine.

Real HR exports are dirty; the staging quarantine (dbt vars `raw_rules`/`reject_reasons`)
must catch every bad row and lose none. `plant_defects` plants each row-level defect kind
of `KINDS` at `rate` of its table's rows and returns the manifest of EXPECTED QUARANTINE:
every raw row staging must route to quarantine, with its reason, including the knock-on
rows whose parent is quarantined (`parent_quarantined`, transitively). Tests and the demo
compare the quarantine with it; it is stored as `sim_truth.planted_defects`.

Each defect sits on a row of its own: modified rows are distinct, and a duplicate is a
new row. Rows are chosen so that only the intended rule fires first in the rule order
(e.g. a near duplicate copies a row whose candidate is clean, an interview moved after its
hire's hire date stays before the as-of date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hris.contract import RAW_TABLES, TRUTH_SCHEMA
from hris.pg_copy import copy_frame
from hris.rules import load_rules

MAX_RATE = 0.15  # 6 interview kinds on distinct rows: 0.2 would need every interview

RULES = load_rules()
# Parent relations of the staging rules (dbt var raw_rules, `orphans`): a row whose parent
# key is in raw but only on quarantined rows goes as parent_quarantined.
RELATIONS: tuple[tuple[str, str, str, str], ...] = RULES.relations()

# The union of the raw tables' key columns: the manifest's key columns (text; NULL where a
# column is not part of the row's table key, or where the planted key itself is NULL).
KEY_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(c for t in RAW_TABLES.values() for c in t.key))
MANIFEST_COLUMNS: tuple[str, ...] = ("table", *KEY_COLUMNS, "_dup_seq", "kind", "reason",
                                     "column", "action")
QUARANTINE, VOID = "quarantine", "void"  # the manifest's actions (hris.rules policies)


@dataclass(frozen=True)
class DefectKind:
    """One row-level defect: where it is planted, the reason staging must give and what it
    does: QUARANTINE the row, or VOID the field (a column of raw_rules `void`)."""

    name: str
    table: str
    column: str | None
    reason: str
    action: str = QUARANTINE


KINDS: tuple[DefectKind, ...] = (
    DefectKind("unparseable_date", "candidates", "application_date", "unparseable_value"),
    DefectKind("exact_duplicate", "interviews", None, "exact_duplicate"),
    DefectKind("near_duplicate", "interviews", None, "near_duplicate"),
    DefectKind("orphan_interview", "interviews", "candidate_id", "orphan"),
    DefectKind("rating_out_of_range", "interviews", "overall_rating", "out_of_range"),
    DefectKind("future_date", "interviews", "interview_date", "future_date"),
    DefectKind("interview_after_hire", "interviews", "interview_date", "interview_after_hire"),
    DefectKind("score_out_of_range", "interview_scores", "score", "out_of_range"),
    DefectKind("non_numeric_score", "interview_scores", "score", "unparseable_value"),
    DefectKind("null_id", "performance_reviews", "review_id", "missing_key"),
    DefectKind("review_before_hire", "performance_reviews", "period_start",
               "review_before_hire"),
    DefectKind("negative_kpi", "performance_reviews", "kpi_value", "out_of_range"),
    # Descriptive fields in another HR system's spelling: voided, the row staged.
    DefectKind("foreign_gender", "candidates", "gender", "invalid_value", VOID),
    DefectKind("foreign_education", "candidates", "education", "invalid_value", VOID),
    DefectKind("foreign_recommendation", "interviews", "recommendation", "invalid_value", VOID),
    DefectKind("negative_response_time", "interview_answers", "response_seconds",
               "out_of_range", VOID),
)
VOID_KINDS = tuple(k for k in KINDS if k.action == VOID)
# The planted spellings (none of them in the contract's vocabularies).
FOREIGN_VALUES = {
    "foreign_gender": ("男", "女", "M", "F"),
    "foreign_education": ("本科", "硕士", "bachelor's degree"),
    "foreign_recommendation": ("hire", "no_hire", "strong_hire", "strong_no_hire"),
}
KNOCK_ON = "knock_on"
PARENT_QUARANTINED = "parent_quarantined"

_BY_NAME = {k.name: k for k in KINDS}


def defect_count(rate: float, rows: int) -> int:
    """Rows of a kind planted in a table of `rows` rows: round half up, at least 1 if rate > 0."""
    if rate <= 0 or rows == 0:
        return 0
    return max(1, int(np.floor(rate * rows + 0.5)))


def validate_rate(rate: float) -> float:
    """The defect rate as a float in [0, MAX_RATE]; a clear ValueError otherwise."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"defect rate must be a number, got {rate!r}") from None
    if not 0.0 <= value <= MAX_RATE:
        raise ValueError(
            f"defect rate must be between 0 and {MAX_RATE} (a share of each table's rows), "
            f"got {rate!r}"
        )
    return value


def dup_seq(frame: pd.DataFrame, key: tuple[str, ...]) -> np.ndarray:
    """_dup_seq as hris.raw_store assigns it: occurrence of the key in file order, NULL = ''."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    text = frame[list(key)].fillna("")
    return text.groupby(list(key), sort=False).cumcount().to_numpy() + 1


def empty_manifest() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in MANIFEST_COLUMNS})
    frame["_dup_seq"] = frame["_dup_seq"].astype(np.int64)
    return frame


def write_manifest(cursor, manifest: pd.DataFrame) -> None:
    """Replace `sim_truth.planted_defects` with `manifest` (empty when nothing was planted).

    Truth schema: dbt never declares it and training never reads it; tests and the demo
    compare the quarantine with it.
    """
    cols = ", ".join(
        f'"{c}" integer' if c == "_dup_seq" else f'"{c}" text' for c in MANIFEST_COLUMNS)
    cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{TRUTH_SCHEMA}"')
    cursor.execute(f'DROP TABLE IF EXISTS "{TRUTH_SCHEMA}"."planted_defects"')
    cursor.execute(f'CREATE TABLE "{TRUTH_SCHEMA}"."planted_defects" ({cols})')
    copy_frame(cursor, f"{TRUTH_SCHEMA}.planted_defects", manifest, list(MANIFEST_COLUMNS))


def plant_defects(
    raw: Mapping[str, pd.DataFrame], rate: float, seed: int, as_of: dt.date
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Plant every kind of `KINDS` at `rate` of its table's rows; return (dirty, manifest).

    Pure and deterministic in (raw, rate, seed, as_of). `raw` is a clean export (str/None
    values, every contract table); it is not modified. The manifest (`MANIFEST_COLUMNS`) has
    one row per raw row staging must quarantine (action "quarantine") and one per field it
    must void (action "void", listed in quarantine.field_defects whether or not the row is
    staged): its table, raw key values, `_dup_seq` as the loader assigns it, the defect
    kind ("knock_on" for children of quarantined rows), the expected reason and the planted
    column. Raises ValueError for a rate outside [0, MAX_RATE], or when a table has too few
    eligible rows for a kind.
    """
    rate = validate_rate(rate)
    missing = [t for t in RAW_TABLES if t not in raw]
    if missing:
        raise ValueError(f"plant_defects needs every raw table; missing {missing}")
    if rate == 0:
        return {name: frame for name, frame in raw.items()}, empty_manifest()
    planter = _Planter(raw, rate, np.random.default_rng([seed, 0xDEF]), as_of,
                       np.random.default_rng([seed, 0xDEF, 1]))
    planter.plant()
    return planter.finish()


class _Planter:
    """Working state of one planting: per table, the rows changed, added and their kinds."""

    def __init__(self, raw: Mapping[str, pd.DataFrame], rate: float,
                 rng: np.random.Generator, as_of: dt.date,
                 void_rng: np.random.Generator) -> None:
        self.rate = rate
        self.rng = rng
        self.void_rng = void_rng  # its own stream: the row defects are as without voids
        self.void_at: dict[str, dict[int, str]] = {n: {} for n in RAW_TABLES}
        self.as_of = as_of
        self.frames = {n: raw[n].reset_index(drop=True).copy() for n in RAW_TABLES}
        # Per table: kind name per modified original row position; added rows with the
        # original position they follow in the file.
        self.kind_at: dict[str, dict[int, str]] = {n: {} for n in RAW_TABLES}
        self.added: dict[str, list[tuple[np.ndarray, pd.DataFrame, str | None]]] = {
            n: [] for n in RAW_TABLES}

    # -- choosing rows ---------------------------------------------------------------

    def _pick(self, kind: str, eligible: np.ndarray, n: int | None = None) -> np.ndarray:
        """`n` (default: the rate's count) distinct positions among eligible, untaken rows."""
        table = _BY_NAME[kind].table
        if n is None:
            n = defect_count(self.rate, len(self.frames[table]))
        taken = np.fromiter(self.kind_at[table], dtype=np.int64)
        pool = np.setdiff1d(np.flatnonzero(eligible), taken)
        if len(pool) < n:
            raise ValueError(
                f"cannot plant {n} {kind} defects in {table}: only {len(pool)} eligible rows "
                f"left (defect rate {self.rate} too high for this export)"
            )
        return np.sort(self.rng.choice(pool, n, replace=False))

    def _set(self, kind: str, rows: np.ndarray, values) -> None:
        spec = _BY_NAME[kind]
        frame = self.frames[spec.table]
        frame.loc[rows, spec.column] = values
        for r in rows:
            self.kind_at[spec.table][int(r)] = kind

    def _days(self, low: int, high: np.ndarray) -> np.ndarray:
        """One random whole number in [low, high] per row."""
        return low + np.floor(self.rng.random(len(high)) * (high - low + 1)).astype(np.int64)

    # -- the kinds -------------------------------------------------------------------

    def plant(self) -> None:
        bad_candidates = self._candidates()
        self._interviews(bad_candidates)
        self._scores()
        self._reviews()
        self._voids()

    def _candidates(self) -> set[str]:
        cands = self.frames["candidates"]
        rows = self._pick("unparseable_date", np.ones(len(cands), bool))
        years = cands.loc[rows, "application_date"].str[:4].fillna("2024")
        self._set("unparseable_date", rows, ("31/02/" + years).to_numpy())
        return set(cands.loc[rows, "candidate_id"])

    def _hire_dates(self) -> pd.Series:
        """Clean candidate id -> hire date (date) of its employee, for hired candidates that
        applied on or before it (staging checks no interview of a later application, e.g. an
        internal move, against the hire date)."""
        cands = self.frames["candidates"]
        emps = self.frames["employees"]
        hire = pd.Series(pd.to_datetime(emps["hire_date"], errors="coerce").to_numpy(),
                         index=emps["employee_id"].to_numpy())
        hire = hire[~hire.index.duplicated()]
        hired = cands[(cands["status"] == "hired") & cands["employee_id"].notna()]
        hired = hired[~hired.index.isin(list(self.kind_at["candidates"]))]
        hire_of = pd.Series(hire.reindex(hired["employee_id"]).to_numpy(),
                            index=hired["candidate_id"].to_numpy())
        applied = pd.to_datetime(hired["application_date"], errors="coerce").to_numpy()
        return hire_of[~(applied > hire_of.to_numpy())].dropna()

    def _interviews(self, bad_candidates: set[str]) -> None:
        ivs = self.frames["interviews"]
        n = len(ivs)
        as_of = pd.Timestamp(self.as_of)
        clean_cand = ~ivs["candidate_id"].isin(bad_candidates).to_numpy()
        date = pd.to_datetime(ivs["interview_date"], errors="coerce")

        # Most constrained first. After hire: a clean hired candidate, moved to a day after
        # the hire date and strictly before as_of (so future_date cannot fire first).
        hire = pd.to_datetime(ivs["candidate_id"].map(self._hire_dates()))
        room = (as_of - hire).dt.days.fillna(0).to_numpy()
        eligible = clean_cand & (room >= 2) & date.notna().to_numpy()
        rows = self._pick("interview_after_hire", eligible)
        days = self._days(1, np.minimum(room[rows] - 1, 90))
        new = hire.iloc[rows].to_numpy() + pd.to_timedelta(days, unit="D")
        self._set("interview_after_hire", rows, pd.DatetimeIndex(new).strftime("%Y-%m-%d"))

        # Near duplicate: a clean row (and candidate) again under a new id that sorts after
        # it; its scores are copied too (they go as parent_quarantined).
        full = ivs[["candidate_id", "round", "interviewer_id", "interview_date"]].notna()
        near = self._pick("near_duplicate", clean_cand & full.all(axis=1).to_numpy())
        for r in near:
            self.kind_at["interviews"][int(r)] = "near_duplicate"
        copies = ivs.loc[near].copy()
        copies["interview_id"] = copies["interview_id"] + "-B"
        if copies["interview_id"].isin(ivs["interview_id"]).any():
            raise ValueError("the export already uses interview ids ending in -B")
        self.near_ids = dict(zip(ivs.loc[near, "interview_id"], copies["interview_id"],
                                 strict=True))
        self.added["interviews"].append((near, copies, "near_duplicate"))

        cand_ids = set(self.frames["candidates"]["candidate_id"])
        rows = self._pick("orphan_interview", np.ones(n, bool))
        orphans = [f"C-UNKNOWN-{i:06d}" for i in range(len(rows))]
        if cand_ids.intersection(orphans):
            raise ValueError("the export already uses the orphan ids C-UNKNOWN-*")
        self._set("orphan_interview", rows, orphans)

        rows = self._pick("rating_out_of_range", np.ones(n, bool))
        self._set("rating_out_of_range", rows, self.rng.choice(["0", "6"], len(rows)))

        rows = self._pick("future_date", np.ones(n, bool))
        days = self._days(1, np.full(len(rows), 365))
        new = as_of + pd.to_timedelta(days, unit="D")
        self._set("future_date", rows, pd.DatetimeIndex(new).strftime("%Y-%m-%d"))

        # Exact duplicate: a second copy of any original row (its values as planted, so the
        # copy hashes equal to the first occurrence). The copy is the defect row.
        rows = np.sort(self.rng.choice(n, defect_count(self.rate, n), replace=False))
        self.added["interviews"].append((rows, ivs.loc[rows].copy(), "exact_duplicate"))

    def _scores(self) -> None:
        scores = self.frames["interview_scores"]
        clean = scores.copy()
        everything = np.ones(len(scores), bool)
        rows = self._pick("score_out_of_range", everything)
        self._set("score_out_of_range", rows, self.rng.choice(["11", "-1"], len(rows)))
        rows = self._pick("non_numeric_score", everything)
        self._set("non_numeric_score", rows, "n/a")
        # Copies of the near duplicates' scores (their clean values), right after the originals.
        rows = np.flatnonzero(clean["interview_id"].isin(list(self.near_ids)).to_numpy())
        copies = clean.loc[rows].copy()
        copies["interview_id"] = copies["interview_id"].map(self.near_ids)
        self.added["interview_scores"].append((rows, copies, None))

    def _reviews(self) -> None:
        reviews = self.frames["performance_reviews"]
        everything = np.ones(len(reviews), bool)
        rows = self._pick("null_id", everything)
        self._set("null_id", rows, None)

        emps = self.frames["employees"]
        hire = pd.Series(pd.to_datetime(emps["hire_date"], errors="coerce").to_numpy(),
                         index=emps["employee_id"].to_numpy())
        hire = hire[~hire.index.duplicated()]
        hire_of = pd.to_datetime(reviews["employee_id"].map(hire))
        rows = self._pick("review_before_hire", hire_of.notna().to_numpy())
        days = self._days(1, np.full(len(rows), 90))
        new = hire_of.iloc[rows].to_numpy() - pd.to_timedelta(days, unit="D")
        self._set("review_before_hire", rows, pd.DatetimeIndex(new).strftime("%Y-%m-%d"))

        rows = self._pick("negative_kpi", everything)
        value = pd.to_numeric(reviews.loc[rows, "kpi_value"], errors="coerce")
        text = reviews.loc[rows, "kpi_value"].astype(str)
        self._set("negative_kpi", rows, np.where(value > 0, "-" + text, "-1"))

    def _voids(self) -> None:
        """Bad descriptive values on rows of their own among the void kinds, clean rows first
        (a row defect's row only if too few are left), never an exact duplicate's source (its
        copy must stay identical to it)."""
        for k in VOID_KINDS:
            frame = self.frames[k.table]
            n = defect_count(self.rate, len(frame))
            sources = [p for p, _, kind in self.added[k.table] if kind == "exact_duplicate"]
            blocked = set(self.void_at[k.table]).union(*map(set, sources))
            free = np.setdiff1d(np.arange(len(frame)), np.fromiter(blocked, np.int64))
            taken = np.isin(free, np.fromiter(self.kind_at[k.table], np.int64))
            clean, used = free[~taken], free[taken]
            if len(free) < n:
                raise ValueError(f"cannot plant {n} {k.name} defects in {k.table}: only "
                                 f"{len(free)} eligible rows (defect rate {self.rate})")
            picked = self.void_rng.choice(clean, min(n, len(clean)), replace=False)
            if len(picked) < n:
                picked = np.concatenate([picked, self.void_rng.choice(
                    used, n - len(picked), replace=False)])
            rows = np.sort(picked)
            if k.name in FOREIGN_VALUES:
                values = self.void_rng.choice(np.array(FOREIGN_VALUES[k.name], dtype=object),
                                              len(rows))
            else:  # a negative number of seconds
                text = frame.loc[rows, k.column]
                number = pd.to_numeric(text, errors="coerce")
                values = np.where(number > 0, "-" + text.astype(str), "-1")
            frame.loc[rows, k.column] = values
            for r in rows:
                self.void_at[k.table][int(r)] = k.name

    # -- the result ------------------------------------------------------------------

    def finish(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        dirty: dict[str, pd.DataFrame] = {}
        kinds: dict[str, np.ndarray] = {}
        voids: dict[str, np.ndarray] = {}
        for name in RAW_TABLES:
            frame = self.frames[name]
            kind = np.full(len(frame), None, dtype=object)
            for r, k in self.kind_at[name].items():
                if k != "near_duplicate":  # the near-duplicate source itself stays clean
                    kind[r] = k
            void = np.full(len(frame), None, dtype=object)
            for r, k in self.void_at[name].items():
                void[r] = k
            order = np.arange(len(frame), dtype=float)
            if self.added[name]:
                extra = pd.concat([f for _, f, _ in self.added[name]], ignore_index=True)
                after = np.concatenate([p for p, _, _ in self.added[name]])
                extra_kind = np.concatenate(
                    [np.full(len(p), k, dtype=object) for p, _, k in self.added[name]])
                # Added rows follow their source in the file (after it, in planting order).
                step = np.arange(1, len(extra) + 1) / (len(extra) + 1)
                frame = pd.concat([frame, extra], ignore_index=True)
                kind = np.concatenate([kind, extra_kind])
                void = np.concatenate([void, np.full(len(extra), None, dtype=object)])
                order = np.concatenate([order, after + step])
                perm = np.argsort(order, kind="stable")
                frame = frame.iloc[perm].reset_index(drop=True)
                kind = kind[perm]
                void = void[perm]
            dirty[name] = frame
            kinds[name] = kind
            voids[name] = void
        return dirty, _manifest(dirty, kinds, voids)


def _manifest_part(name: str, frame: pd.DataFrame, marked: np.ndarray, kind: np.ndarray,
                   reason, column, action: str) -> pd.DataFrame:
    """The manifest rows of the `marked` rows of one table (keys, kind, reason, action)."""
    table = RAW_TABLES[name]
    rows = frame.loc[marked, list(table.key)]
    part = pd.DataFrame({"table": name}, index=rows.index)
    for c in KEY_COLUMNS:
        part[c] = rows[c] if c in table.key else None
    part["_dup_seq"] = dup_seq(frame, table.key)[marked]
    part["kind"] = kind[marked]
    part["reason"] = reason
    part["column"] = column
    part["action"] = action
    return part


def _void_part(name: str, frame: pd.DataFrame, void: np.ndarray) -> pd.DataFrame | None:
    """The manifest rows of the voided fields of one table."""
    marked = pd.notna(void)
    if not marked.any():
        return None
    return _manifest_part(name, frame, marked, void,
                          [_BY_NAME[k].reason for k in void[marked]],
                          [_BY_NAME[k].column for k in void[marked]], VOID)


def _manifest(dirty: dict[str, pd.DataFrame], kinds: dict[str, np.ndarray],
              voids: dict[str, np.ndarray]) -> pd.DataFrame:
    """Own defects plus knock-on rows (parents first, so it is transitive), then the voided
    fields."""
    parts = []
    staged_keys: dict[str, set] = {}
    raw_keys: dict[str, set] = {}
    for name, table in RAW_TABLES.items():
        frame = dirty[name]
        kind = kinds[name].copy()
        reason = np.array([_BY_NAME[k].reason if k else None for k in kind], dtype=object)
        column = np.array([_BY_NAME[k].column if k else None for k in kind], dtype=object)
        for child, fk, parent, _pk in RELATIONS:
            if child != name:
                continue
            values = frame[fk]
            knock = (pd.isna(kind) & values.notna().to_numpy()
                     & values.isin(raw_keys[parent]).to_numpy()
                     & ~values.isin(staged_keys[parent]).to_numpy())
            kind[knock] = KNOCK_ON
            reason[knock] = PARENT_QUARANTINED
            column[knock] = fk
        quarantined = pd.notna(kind)
        if len(table.key) == 1:
            key = frame[table.key[0]]
            raw_keys[name] = set(key.dropna())
            staged_keys[name] = set(key[~quarantined].dropna())
        if not quarantined.any():
            continue
        parts.append(_manifest_part(name, frame, quarantined, kind, reason[quarantined],
                                    column[quarantined], QUARANTINE))
    parts += [p for name in RAW_TABLES
              if (p := _void_part(name, dirty[name], voids[name])) is not None]
    if not parts:
        return empty_manifest()
    manifest = pd.concat(parts, ignore_index=True)[list(MANIFEST_COLUMNS)]
    manifest["_dup_seq"] = manifest["_dup_seq"].astype(np.int64)
    return manifest
