"""The scoring endpoint's input contract: which fields a request carries, their ranges, checks.

The MLflow scoring server is no guard: it turns nulls into NaN, drops unknown columns and
lets a whole-batch type error through as a generic message. So every row is checked here,
before scoring, and the first problem is reported with its field and its row (0-based,
in request order); the pyfunc turns that into a 400.

The contract follows the model: the fields are the union of the role families' feature
columns (feature-store names), each with a range from `field_spec`. A family requires the
fields its interviews assess (`FamilyModel.required`); every other field may be absent or
null. Extra fields are ignored. A feature column without a rule here cannot be served
(`InputContract.from_model` refuses it), so no model input goes unchecked.

Rater-adjusted scores (`interviewer_<dim>_adj`) are never taken from the caller: the request
sends `rater_ids` (interviewer pseudonyms) and `with_adjusted_scores` derives them from the
raw scores and the offsets frozen into the model version (ml/rater_offsets.py), before the
checks, so they are range-checked like every other field.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from ml.rater_offsets import (
    RATER_IDS,
    RaterIdsError,
    RaterOffsets,
    adjusted_source,
    parse_rater_ids,
)

ROLE_FAMILY = "role_family"
REQUEST_ID = "request_id"
MAX_REQUEST_ID_CHARS = 200
# The values of the raw contract (hris.contract.EDUCATION_LEVELS: ml never imports hris, a
# test keeps the two equal); a model that encodes education itself may declare its own list
# (`HireloopModel.categories`).
EDUCATION_LEVELS = ("high_school", "associate", "bachelor", "master", "phd", "other")
# Background the interview tool sends whether or not the current model uses it: checked when
# present, never required, so the request format does not change with each model version.
ALWAYS_ACCEPTED = ("years_experience", "education")
# Up to this many rows a request is read as one object matrix (see `_Columns`).
SMALL_BATCH_ROWS = 64


@dataclass(frozen=True)
class FieldSpec:
    """One input field: its kind, allowed range (inclusive) and the name people read."""

    name: str
    kind: str  # "number" | "count" | "category"
    low: float | None = None
    high: float | None = None
    label: str = ""  # human name, used in reasons ("communication", "overall rating")
    categories: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "category":
            return f"one of {', '.join(self.categories)}"
        high = "∞)" if self.high is None else f"{self.high:g}]"
        whole = ", whole number" if self.kind == "count" else ""
        return f"number in [{self.low:g}, {high}{whole}"


_ROUNDS = {"hr": "HR-round rating", "business": "business-round rating",
           "director": "director-round rating", "mean": "overall rating"}
_PLAIN = {
    "key_answered_fully_share": ("number", 0, 1, "key questions answered fully"),
    "answered_fully_share": ("number", 0, 1, "questions answered fully"),
    "recommend_share": ("number", 0, 1, "interviewer recommendations"),
    "mean_response_seconds": ("number", 0, None, "response time"),
    "mean_duration_minutes": ("number", 0, None, "interview length"),
    "n_interviews": ("count", 0, None, "number of interviews"),
    "n_interviewers": ("count", 0, None, "number of interviewers"),
    "n_answers": ("count", 0, None, "number of answers"),
    "n_key_questions": ("count", 0, None, "number of key questions"),
    "years_experience": ("number", 0, 80, "years of experience"),
}


def field_spec(column: str, education_levels: Sequence[str] = EDUCATION_LEVELS) -> FieldSpec:
    """The rule for a feature-store column; KeyError when the contract has none."""
    if column in _PLAIN:
        kind, low, high, label = _PLAIN[column]
        return FieldSpec(column, kind, low, high, label)
    if column == "education":
        return FieldSpec(column, "category", label="education", categories=tuple(education_levels))
    if m := re.fullmatch(r"interviewer_([a-z_]+)_adj", column):
        # a 0-10 score minus a rater offset (a few points at most): derived, never sent
        return FieldSpec(column, "number", -10, 20, m.group(1).replace("_", " "))
    if m := re.fullmatch(r"(interviewer|ai)_([a-z_]+)", column):
        return FieldSpec(column, "number", 0, 10, m.group(2).replace("_", " "))
    if m := re.fullmatch(r"overall_rating_(hr|business|director|mean)", column):
        return FieldSpec(column, "number", 1, 5, _ROUNDS[m.group(1)])
    if m := re.fullmatch(r"key_([a-z_]+)_answered_fully_share", column):
        return FieldSpec(column, "number", 0, 1,
                         f"key {m.group(1).replace('_', ' ')} questions answered fully")
    raise KeyError(f"no input rule for feature column {column!r}")


def reason_label(column: str) -> str:
    """Human name of a model column for the reasons: interviewer_ and ai_ scores share one."""
    try:
        return field_spec(column).label
    except KeyError:
        return column.replace("_", " ")


def _derived(column: str) -> bool:
    """Columns the model builds itself from the request (role family one-hots)."""
    return column.startswith(f"{ROLE_FAMILY}=")


class InputError(ValueError):
    """A request row that cannot be scored; names the field and the row."""

    def __init__(self, message: str, field: str | None = None, row: int | None = None):
        super().__init__(message)
        self.field, self.row = field, row


@dataclass(frozen=True)
class InputContract:
    """What the model accepts: families with their required fields, and a rule per field."""

    fields: tuple[FieldSpec, ...]
    required: Mapping[str, frozenset[str]]  # role family -> required field names
    rater_offsets: RaterOffsets | None = None  # set when a field is rater-adjusted

    @classmethod
    def from_model(cls, families: Mapping[str, Any],
                   education_levels: Sequence[str] = EDUCATION_LEVELS,
                   rater_offsets: RaterOffsets | None = None) -> InputContract:
        """Build from `HireloopModel.families` (objects with `.features` and `.required`)
        and, for rater-adjusted features, the offsets frozen into the model version."""
        columns = [c for fam in families.values() for c in [*fam.features, *fam.required]]
        names = [c for c in dict.fromkeys([*columns, *ALWAYS_ACCEPTED])
                 if c not in (ROLE_FAMILY, REQUEST_ID) and not _derived(c)]
        fields = tuple(field_spec(c, education_levels) for c in names)
        required = {k: frozenset(f.required) - {ROLE_FAMILY} for k, f in families.items()}
        adjusted = any(adjusted_source(c) for c in names)
        return cls(fields, required, (rater_offsets or RaterOffsets()) if adjusted else None)

    @functools.cached_property
    def adjusted(self) -> dict[str, str]:
        """Rater-adjusted field -> the raw score field it is derived from."""
        return {f.name: src for f in self.fields if (src := adjusted_source(f.name))}

    @functools.cached_property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted(self.required))

    @functools.cached_property
    def category_fields(self) -> tuple[tuple[int, FieldSpec], ...]:
        """(position in `fields`, rule) of the category fields."""
        return tuple((j, f) for j, f in enumerate(self.fields) if f.kind == "category")

    @functools.cached_property
    def _plans(self) -> dict[tuple, _ReadPlan]:
        return {}

    def read_plan(self, columns: Sequence[Any]) -> _ReadPlan:
        """Where each numeric field comes from in a request with these columns (cached per
        column list: an interview tool sends the same columns request after request)."""
        key = tuple(columns)
        plan = self._plans.get(key)
        if plan is None:
            plan = _ReadPlan.of(self, key)
            if len(self._plans) > 256:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @functools.cached_property
    def required_matrix(self) -> tuple[dict[str, int], np.ndarray]:
        """(family -> row, families x fields: does the family require the field)."""
        families = sorted(self.required)
        matrix = np.array([[f.name in self.required[fam] for f in self.fields]
                           for fam in families], dtype=bool).reshape(len(families),
                                                                     len(self.fields))
        return {fam: i for i, fam in enumerate(families)}, matrix

    @functools.cached_property
    def number_checks(self) -> _NumberChecks:
        """The numeric fields' rules as arrays, for checking a whole batch at once."""
        pos = [j for j, f in enumerate(self.fields) if f.kind != "category"]
        specs = [self.fields[j] for j in pos]
        return _NumberChecks(
            positions=np.array(pos, dtype=np.intp),
            index={f.name: i for i, f in enumerate(specs)},
            low=np.array([-np.inf if f.low is None else f.low for f in specs], dtype=float),
            high=np.array([np.inf if f.high is None else f.high for f in specs], dtype=float),
            count=np.array([f.kind == "count" for f in specs], dtype=bool),
        )


@dataclass(frozen=True)
class _ReadPlan:
    """For one request column list: the numeric fields (columns of the numbers matrix) read
    from a request column, that column's name, which of them are rater-adjusted (the raw
    score minus the rows' mean offset), and the numeric fields the request lacks."""

    read: np.ndarray           # numbers-matrix columns filled from the request
    sources: tuple[str, ...]   # the request column each is read from
    adjusted: np.ndarray       # positions in `read` that subtract the rater offsets
    absent: np.ndarray         # numbers-matrix columns left null

    @classmethod
    def of(cls, contract: InputContract, columns: tuple) -> _ReadPlan:
        present = set(columns)
        checks = contract.number_checks
        read, sources, adjusted, absent = [], [], [], []
        for k, j in enumerate(checks.positions):
            name = contract.fields[j].name
            source = contract.adjusted.get(name, name)
            if source in present:
                if source != name:
                    adjusted.append(len(read))
                read.append(k)
                sources.append(source)
            else:
                absent.append(k)
        return cls(np.array(read, dtype=np.intp), tuple(sources),
                   np.array(adjusted, dtype=np.intp), np.array(absent, dtype=np.intp))


@dataclass(frozen=True)
class _NumberChecks:
    positions: np.ndarray      # the numeric fields' positions in InputContract.fields
    index: dict[str, int]      # field name -> column of the numbers matrix
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray          # whole numbers only


class CleanRows:
    """A validated batch as arrays: what `validate_rows` returns and the model scores.

    Numbers live in one float64 matrix (rows x numeric fields, NaN for null or absent), so
    the model takes its inputs with one indexing step instead of a DataFrame per request.
    `frame()` gives the DataFrame `validate` returns.
    """

    def __init__(self, contract: InputContract, families: np.ndarray, request_ids: np.ndarray,
                 numbers: np.ndarray, categories: dict[str, np.ndarray]):
        self.contract = contract
        self.families = families
        self.request_ids = request_ids
        self._numbers = numbers
        self._categories = categories

    def __len__(self) -> int:
        return len(self.families)

    def numbers(self, columns: Sequence[str]) -> np.ndarray:
        """float64 matrix (rows x `columns`) of numeric contract fields."""
        index = self.contract.number_checks.index
        return self._numbers[:, [index[c] for c in columns]]

    def __getitem__(self, name: str) -> np.ndarray:
        if name == ROLE_FAMILY:
            return self.families
        if name == REQUEST_ID:
            return self.request_ids
        if name in self._categories:
            return self._categories[name]
        return self._numbers[:, self.contract.number_checks.index[name]]

    def canonical_records(self) -> list[dict[str, Any]]:
        """Per row, role_family and the fields that hold a value (numbers as Python floats):
        what `input_hashes` hashes. Built from the numbers matrix in one conversion, not
        value by value."""
        numeric = [self.contract.fields[j].name for j in self.contract.number_checks.positions]
        categories = [(name, values.tolist()) for name, values in self._categories.items()]
        out = []
        for i, (family, row) in enumerate(zip(self.families.tolist(), self._numbers.tolist(),
                                             strict=True)):
            canon = {name: v for name, v in zip(numeric, row, strict=True) if v == v}
            canon[ROLE_FAMILY] = family
            for name, values in categories:
                if values[i] is not None:
                    canon[name] = values[i]
            out.append(canon)
        return out

    def frame(self) -> pd.DataFrame:
        """role_family, request_id, then every contract field (as `validate` returns it)."""
        names = [ROLE_FAMILY, REQUEST_ID, *self.contract.names]
        return pd.DataFrame({n: self[n] for n in names})


# What pandas' infer_dtype calls a column of plain numbers (nulls skipped); booleans, strings
# and anything else fall back to the per-value check, which names the first offender.
_NUMBER_KINDS = frozenset({"floating", "integer", "mixed-integer-float"})


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _is_null(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _numbers(col: pd.Series, spec: FieldSpec) -> np.ndarray:
    """The column as float64 (NaN for null); InputError on a value that is not a number."""
    if pd.api.types.is_bool_dtype(col.dtype):
        raise InputError(f"row 0: field {spec.name!r} must be a number, got a boolean",
                         spec.name, 0)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    values = col.to_numpy(dtype=object)
    if infer_dtype(values, skipna=True) not in _NUMBER_KINDS:
        _first_non_number(values, spec)
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy("float64")


def _first_non_number(values: np.ndarray, spec: FieldSpec) -> None:
    """Raise InputError for the first value that is neither a number nor null."""
    for i, v in enumerate(values):
        if not (v is None or _is_number(v) or (isinstance(v, float) and math.isnan(v))
                or v is pd.NA):
            raise InputError(
                f"row {i}: field {spec.name!r} must be a number, got {type(v).__name__} {v!r}",
                spec.name, i,
            )


def _check_numbers(x: np.ndarray, spec: FieldSpec, needed: np.ndarray, fams: np.ndarray) -> None:
    null = np.isnan(x)
    if (bad := null & needed).any():
        i = _first(bad)
        raise InputError(f"row {i}: required field {spec.name!r} is null "
                         f"(role family {fams[i]!r} requires it)", spec.name, i)
    present = ~null
    low = -np.inf if spec.low is None else spec.low
    high = np.inf if spec.high is None else spec.high
    with np.errstate(invalid="ignore"):
        bad = present & ~((x >= low) & (x <= high))
    if bad.any():
        i = _first(bad)
        raise InputError(f"row {i}: field {spec.name!r} = {x[i]:g} is out of range "
                         f"(expected {spec.describe()})", spec.name, i)
    if spec.kind == "count" and (bad := present & (x != np.floor(x))).any():
        i = _first(bad)
        raise InputError(f"row {i}: field {spec.name!r} = {x[i]:g} must be a whole number",
                         spec.name, i)


def _categories(values: np.ndarray, spec: FieldSpec, needed: np.ndarray, fams: np.ndarray):
    known = _isin(values, spec.categories)
    if known.all():
        return values.copy()
    out = np.empty(len(values), dtype=object)
    out[known] = values[known]
    for i in np.flatnonzero(~known):  # nulls (allowed where not needed) and offenders
        v = values[i]
        if _is_null(v):
            if needed[i]:
                raise InputError(f"row {i}: required field {spec.name!r} is null "
                                 f"(role family {fams[i]!r} requires it)", spec.name, i)
            out[i] = None
        elif not isinstance(v, str):
            raise InputError(f"row {i}: field {spec.name!r} must be a string, got "
                             f"{type(v).__name__} {v!r}", spec.name, i)
        else:
            raise InputError(f"row {i}: field {spec.name!r} = {v!r} is not "
                             f"{spec.describe()}", spec.name, i)
    return out


def _isin(values: np.ndarray, allowed: Sequence[str]) -> np.ndarray:
    """Which values are one of the `allowed` strings: a set lookup mapped over the column
    in C (pandas' isin costs more than the whole check for a request's few rows)."""
    lookup = frozenset(allowed).__contains__
    try:
        return np.fromiter(map(lookup, values), dtype=bool, count=len(values))
    except TypeError:  # an unhashable value: check one by one
        return np.array([isinstance(v, str) and v in allowed for v in values], dtype=bool)


class _Columns:
    """A request's columns as arrays, each read once.

    A small batch (a served request) is turned into one object matrix in a single pandas
    call: taking 30 columns one by one as Series costs more than scoring the row. A large
    one is read column by column, keeping each column's dtype (an object matrix of a
    thousand rows costs more than the Series).
    """

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.names = frame.columns.tolist()
        self.at = {name: i for i, name in enumerate(self.names)}
        self.rows = len(frame)
        self._matrix = (frame.to_numpy(dtype=object) if len(frame) <= SMALL_BATCH_ROWS
                        else None)

    def __contains__(self, name: str) -> bool:
        return name in self.at

    def get(self, name: str) -> np.ndarray:
        if self._matrix is not None:
            return self._matrix[:, self.at[name]]
        return self.frame[name].to_numpy()

    def objects(self, name: str) -> np.ndarray:
        return np.asarray(self.get(name), dtype=object)

    def plain_numbers(self, names: Sequence[str]) -> np.ndarray | None:
        """float64 matrix (rows x `names`, NaN for null) when every one of these columns
        holds plain numbers only, else None."""
        if self._matrix is not None:
            block = self._matrix[:, [self.at[n] for n in names]]
            if set(map(type, block.ravel().tolist())) <= _PLAIN_NUMBER_TYPES:
                return block.astype(np.float64)
            return None
        out = np.empty((self.rows, len(names)), dtype=np.float64)
        for i, name in enumerate(names):
            x = _plain_numbers(self.get(name))
            if x is None:
                return None
            out[:, i] = x
        return out


def _role_families(columns: _Columns, contract: InputContract) -> np.ndarray:
    if ROLE_FAMILY not in columns:
        raise InputError(f"row 0: missing required field {ROLE_FAMILY!r}", ROLE_FAMILY, 0)
    fams = columns.objects(ROLE_FAMILY)
    if _isin(fams, contract.families).all():
        return fams
    for i, v in enumerate(fams):
        if not isinstance(v, str):
            what = "null" if v is None or (isinstance(v, float) and math.isnan(v)) else (
                f"{type(v).__name__} {v!r}, not a string")
            raise InputError(f"row {i}: field {ROLE_FAMILY!r} is {what}", ROLE_FAMILY, i)
        if v not in contract.required:
            raise InputError(f"row {i}: field {ROLE_FAMILY!r} = {v!r} is not a known role "
                             f"family (known: "
                             f"{', '.join(contract.families)})", ROLE_FAMILY, i)
    return fams


def _request_ids(columns: _Columns) -> np.ndarray:
    if REQUEST_ID not in columns:
        return np.full(columns.rows, None, dtype=object)
    ids = columns.objects(REQUEST_ID)
    if all(type(v) is str and 0 < len(v) <= MAX_REQUEST_ID_CHARS for v in ids.tolist()):
        return ids.copy()
    null = pd.isna(ids)
    given = ids[~null]
    if (infer_dtype(given, skipna=False) in ("string", "empty")
            and all(map(_is_null, ids[null]))):
        lengths = np.fromiter(map(len, given), np.int64, len(given))
        if not (lengths > MAX_REQUEST_ID_CHARS).any():
            out = ids.copy()
            out[null] = None
            out[np.flatnonzero(~null)[lengths == 0]] = None
            return out
    out = np.empty(len(ids), dtype=object)
    for i, v in enumerate(ids):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
            out[i] = None
        elif not isinstance(v, str):
            raise InputError(f"row {i}: field {REQUEST_ID!r} must be a string, got "
                             f"{type(v).__name__} {v!r}", REQUEST_ID, i)
        elif len(v) > MAX_REQUEST_ID_CHARS:
            raise InputError(f"row {i}: field {REQUEST_ID!r} is longer than "
                             f"{MAX_REQUEST_ID_CHARS} characters", REQUEST_ID, i)
        else:
            out[i] = v
    return out


def validate(frame: Any, contract: InputContract, max_rows: int) -> pd.DataFrame:
    """Check a request and return it clean: role_family, request_id, then every contract field
    (numbers as float64 with NaN for absent, categories as str or None). Extra columns are
    dropped. Raises InputError naming the first bad field and its row.
    """
    return validate_rows(frame, contract, max_rows).frame()


def validate_rows(frame: Any, contract: InputContract, max_rows: int) -> CleanRows:
    """`validate`, returning arrays (CleanRows) instead of a DataFrame.

    The request's columns are read once into arrays (`_Columns`), rater-adjusted scores are
    derived from them, and every field is checked at once (nulls where the family requires
    a value, ranges, whole numbers). Only when something is wrong, or a column holds
    anything but plain numbers, are the fields walked again in order on the DataFrame, so
    the message names the same first problem, field and row, as a field-by-field check
    would.
    """
    if not isinstance(frame, pd.DataFrame):
        try:
            frame = pd.DataFrame(frame)
        except (ValueError, TypeError) as exc:
            raise InputError(f"input is not a table of rows: {exc}") from None
    if len(frame) == 0:
        raise InputError("input has no rows")
    if len(frame) > max_rows:
        raise InputError(f"batch of {len(frame)} rows exceeds the maximum of {max_rows} rows "
                         "per request; split it")
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError(f"field {dup!r} appears more than once", str(dup))
    columns = _Columns(frame)
    offsets = _mean_offsets(columns, contract)
    fams = _role_families(columns, contract)
    ids = _request_ids(columns)
    family_index, required = contract.required_matrix
    needs = required[np.fromiter(map(family_index.__getitem__, fams), np.intp, len(fams))]
    try:
        rows = _checked_at_once(columns, contract, fams, ids, needs, offsets)
    except InputError:
        rows = None
    if rows is None:
        rows = _checked_in_order(with_adjusted_scores(frame, contract, offsets), contract,
                                 fams, ids, needs)
    return rows


# The Python types of plain numbers (and null) in an object column; anything else (a bool,
# a string, pd.NA) sends the batch to the field-by-field check, which names it or reads it.
_PLAIN_NUMBER_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.int32,
                                 type(None)})


def _plain_numbers(values: np.ndarray) -> np.ndarray | None:
    """float64 (NaN for null) when the column holds plain numbers only, else None."""
    kind = values.dtype.kind
    if kind == "f" or kind in "iu":
        return values.astype(np.float64, copy=False)
    if kind == "O" and set(map(type, values.tolist())) <= _PLAIN_NUMBER_TYPES:
        return values.astype(np.float64)
    return None


def _checked_at_once(columns: _Columns, contract: InputContract, fams: np.ndarray,
                     ids: np.ndarray, needs: np.ndarray, offsets: np.ndarray | None
                     ) -> CleanRows | None:
    """The batch as CleanRows, or None when any check fails or a column needs the careful
    reading (the caller then finds what is wrong, or reads it field by field)."""
    checks = contract.number_checks
    plan = contract.read_plan(columns.names)
    numbers = np.empty((columns.rows, len(checks.positions)), dtype=np.float64)
    values = columns.plain_numbers(plan.sources)
    if values is None:
        return None
    if offsets is not None and len(plan.adjusted):
        values[:, plan.adjusted] -= offsets[:, None]
    numbers[:, plan.read] = values
    numbers[:, plan.absent] = np.nan
    categories: dict[str, np.ndarray] = {}
    for j, spec in contract.category_fields:
        if spec.name in columns:
            categories[spec.name] = _categories(columns.objects(spec.name), spec,
                                                needs[:, j], fams)
        elif needs[:, j].any():
            return None
        else:
            categories[spec.name] = np.full(columns.rows, None, dtype=object)
    null = np.isnan(numbers)
    with np.errstate(invalid="ignore"):
        bad = null & needs[:, checks.positions]
        bad |= ~null & ~((numbers >= checks.low) & (numbers <= checks.high))
        if checks.count.any():
            whole = numbers[:, checks.count]
            bad[:, checks.count] |= ~null[:, checks.count] & (whole != np.floor(whole))
    if bad.any():
        return None
    return CleanRows(contract, fams, ids, numbers, categories)


def _checked_in_order(frame: pd.DataFrame, contract: InputContract, fams: np.ndarray,
                      ids: np.ndarray, needs: np.ndarray) -> CleanRows:
    """Field by field, in contract order: raises InputError for the first problem."""
    checks = contract.number_checks
    numbers = np.empty((len(frame), len(checks.positions)), dtype=np.float64)
    categories: dict[str, np.ndarray] = {}
    k = 0
    for j, spec in enumerate(contract.fields):
        needed = needs[:, j]
        if spec.name not in frame.columns:
            if needed.any():
                i = _first(needed)
                raise InputError(f"row {i}: missing required field {spec.name!r} (role family "
                                 f"{fams[i]!r} requires it)", spec.name, i)
            if spec.kind == "category":
                categories[spec.name] = np.full(len(frame), None, dtype=object)
            else:
                numbers[:, k] = np.nan
                k += 1
            continue
        col = frame[spec.name]
        if spec.kind == "category":
            categories[spec.name] = _categories(col.to_numpy(dtype=object), spec, needed, fams)
        else:
            x = _numbers(col, spec)
            _check_numbers(x, spec, needed, fams)
            numbers[:, k] = x
            k += 1
    return CleanRows(contract, fams, ids, numbers, categories)


def with_adjusted_scores(frame: pd.DataFrame, contract: InputContract,
                         offsets: np.ndarray | None = None) -> pd.DataFrame:
    """The request with every rater-adjusted field derived: raw score - mean offset of the
    row's `rater_ids` (unknown interviewers and no rater_ids count as the average rater, 0).
    Values a caller sent for adjusted fields are replaced; a raw score that is not a number
    gives NaN here and is reported under its own name by the checks that follow.
    `offsets` are the rows' mean offsets when already known (`_mean_offsets`).
    """
    adjusted = contract.adjusted
    if not adjusted:
        return frame
    mean = _mean_offsets(_Columns(frame), contract) if offsets is None else offsets
    out = frame.copy()
    for name, source in adjusted.items():
        if source in frame.columns:
            out[name] = _as_numbers(frame[source]) - mean
        else:
            out[name] = np.nan
    return out


def _mean_offsets(columns: _Columns, contract: InputContract) -> np.ndarray | None:
    """Per row, the mean rater offset of its `rater_ids`; None when the model adjusts no
    score. InputError names the first malformed rater_ids."""
    if not contract.adjusted:
        return None
    mean = np.zeros(columns.rows)
    if RATER_IDS not in columns:
        return mean
    offsets = contract.rater_offsets or RaterOffsets()
    for i, value in enumerate(columns.objects(RATER_IDS).tolist()):
        try:
            mean[i] = offsets.mean_offset(parse_rater_ids(value))
        except RaterIdsError as exc:
            raise InputError(f"row {i}: field {RATER_IDS!r} {exc}", RATER_IDS, i) from None
    return mean


def _as_numbers(col: pd.Series) -> np.ndarray:
    """float64, NaN for anything that is not a number (the checks name it afterwards)."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    values = col.to_numpy(dtype=object)
    return np.array([float(v) if _is_number(v) else np.nan for v in values], dtype="float64")


def input_hashes(clean: pd.DataFrame | CleanRows, contract: InputContract) -> list[str]:
    """SHA-256 of each row's canonical JSON: role family and the contract fields that hold a
    value, keys sorted, numbers as floats. Absent and null hash alike; request_id is not
    part of it, so the same interview hashes the same online and in batch scoring.
    """
    if isinstance(clean, CleanRows):
        if clean.contract is contract:
            return [_digest(canon) for canon in clean.canonical_records()]
        clean = clean.frame()
    cols = [ROLE_FAMILY, *contract.names]
    out = []
    for rec in (rec.items() for rec in clean[cols].to_dict(orient="records")):
        canon = {}
        for k, v in rec:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            canon[k] = float(v) if _is_number(v) else v
        out.append(_digest(canon))
    return out


def _digest(canon: dict[str, Any]) -> str:
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
