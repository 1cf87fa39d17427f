"""The scoring endpoint's input contract: which fields a request carries, their ranges, checks.

`check_records` is the one definition of a valid request row, used by the endpoint's ASGI
layer (ml/scoring_app.py) on the JSON rows before MLflow sees them, and by the pyfunc's own
`predict` (`validate_rows`) for in-process callers and batch scoring. It lists every
problem of every row (row, field, rule, message), never a value the caller sent.

The contract follows the model: the fields are the union of the role families' feature
columns (feature-store names), each with a range from `field_spec`. A family requires the
fields its interviews assess (`FamilyModel.required`); every other field may be absent or
null. Any other field is refused, protected attributes (ml.features.is_banned) with their
own rule. A feature column without a rule here cannot be served (`InputContract.from_model`
refuses it), so no model input goes unchecked.

Rater-adjusted scores (`interviewer_<dim>_adj`) are never taken from a `/invocations`
caller: the request sends the raw score and `rater_ids` (interviewer pseudonyms), and the
adjusted value is the raw score minus the mean offset frozen into the model version
(ml/rater_offsets.py). Rows that hold the feature store's own adjusted scores (batch scoring
of fct_candidates_to_score; the features the interview-records route derives with the
offsets in force) are checked with `InputContract.feature_rows()` instead.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.features import is_banned
from ml.rater_offsets import (
    MAX_RATERS,
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
HASH_DECIMALS = 9  # input_hashes: features equal to 1e-9 are the same input


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


def reason_labels(dimensions: Sequence[str], scenario_types: Sequence[str]) -> tuple[str, ...]:
    """Every label `reason_label` gives a column `field_spec` knows, for these vocabularies
    (the dbt vars `dimensions` and `scenario_types`): what the words of the reasons must
    translate. Built from this module's own tables, so a new rule's label is listed too."""
    columns = [*_PLAIN, "education", *(f"overall_rating_{r}" for r in _ROUNDS),
               *(f"{who}_{d}" for d in dimensions for who in ("interviewer", "ai")),
               *(f"interviewer_{d}_adj" for d in dimensions),
               *(f"key_{s}_answered_fully_share" for s in scenario_types)]
    return tuple(dict.fromkeys(reason_label(c) for c in columns))


def _derived(column: str) -> bool:
    """Columns the model builds itself from the request (role family one-hots)."""
    return column.startswith(f"{ROLE_FAMILY}=")


@dataclass(frozen=True)
class InputContract:
    """What the model accepts: families with their required fields, and a rule per field."""

    fields: tuple[FieldSpec, ...]
    required: Mapping[str, frozenset[str]]  # role family -> required field names
    rater_offsets: RaterOffsets | None = None  # set when a field is rater-adjusted
    # Rater-adjusted fields given as they are (feature-store rows), not derived from
    # rater_ids: batch scoring and the interview-records route (`feature_rows`).
    adjusted_given: bool = False

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

    def feature_rows(self) -> InputContract:
        """This contract for rows that carry the feature store's own rater-adjusted scores
        (fct_candidates_to_score, or features derived from interview records with the
        offsets in force): the `_adj` fields are inputs like any other, no rater_ids."""
        return dataclasses.replace(self, rater_offsets=None, adjusted_given=True)

    @functools.cached_property
    def adjusted(self) -> dict[str, str]:
        """Rater-adjusted field -> the raw score field it is derived from (none when the
        adjusted values are given)."""
        if self.adjusted_given:
            return {}
        return {f.name: src for f in self.fields if (src := adjusted_source(f.name))}

    @functools.cached_property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted(self.required))

    @functools.cached_property
    def category_fields(self) -> tuple[tuple[int, FieldSpec], ...]:
        """(position in `fields`, rule) of the category fields."""
        return tuple((j, f) for j, f in enumerate(self.fields) if f.kind == "category")

    @functools.cached_property
    def accepted(self) -> _Accepted:
        """What a request row may carry (see `_Accepted`)."""
        return _accepted(self)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

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
            canon = {name: round(v, HASH_DECIMALS) for name, v in zip(numeric, row, strict=True)
                     if v == v}
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


def _is_null(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def safe_name(name: Any) -> str:
    """A field name fit to repeat in a message: a caller's key may itself be a personal value
    ({"Zhang Wei": 1}), so only short identifier-like names are quoted."""
    return name if isinstance(name, str) and _SAFE_NAME.fullmatch(name) else "(unnamed field)"


@dataclass(frozen=True)
class Problem:
    """One reason a row cannot be scored. `rule` is a stable keyword a client can branch on
    (required, type, range, whole, category, unknown, protected, derived, length, format,
    batch); `message` never repeats a value the caller sent."""

    row: int | None
    field: str | None
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "rule": self.rule,
                "message": self.message}

    def __str__(self) -> str:
        return self.message if self.row is None else f"row {self.row}: {self.message}"


class InputError(ValueError):
    """Rows that cannot be scored: every problem found (`problems`); `field` and `row` are
    those of the first."""

    def __init__(self, message: str | Sequence[Problem], field: str | None = None,
                 row: int | None = None):
        problems = ([Problem(row, field, "invalid", message)] if isinstance(message, str)
                    else list(message))
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")
        self.problems = problems
        self.field, self.row = first.field, first.row


@dataclass(frozen=True)
class _Accepted:
    """What a request row may carry, derived once from the contract: every input field's
    rule (the raw score, not the adjusted one, for rater-adjusted fields), the fields each
    family requires (as the caller sends them), and the derived names a caller must not
    send."""

    specs: Mapping[str, FieldSpec]
    required: Mapping[str, tuple[str, ...]]
    derived: Mapping[str, str]  # adjusted field -> the raw field it is derived from
    rater_ids: bool
    bounds: Mapping[str, tuple[float, float, bool]]  # number field -> low, high, whole only


def _accepted(contract: InputContract) -> _Accepted:
    derived = dict(contract.adjusted)
    specs: dict[str, FieldSpec] = {}
    for f in contract.fields:
        if f.name in derived:
            source = derived[f.name]
            specs.setdefault(source, field_spec(source))
        else:
            specs[f.name] = f
    required = {fam: tuple(dict.fromkeys(derived.get(n, n) for n in sorted(names)))
                for fam, names in contract.required.items()}
    bounds = {name: (-_LARGEST if f.low is None else f.low,
                     _LARGEST if f.high is None else f.high, f.kind == "count")
              for name, f in specs.items() if f.kind != "category"}
    return _Accepted(specs, required, derived, bool(derived), bounds)


_LARGEST = sys.float_info.max  # "no bound" still refuses an infinity


def accepted_fields(contract: InputContract) -> list[str]:
    """Every field a request row may carry, in order: what the published schema lists."""
    acc = contract.accepted
    return [ROLE_FAMILY, REQUEST_ID, *([RATER_IDS] if acc.rater_ids else []), *acc.specs]


def _check_value(i: int, name: str, v: Any, spec: FieldSpec, needed: bool,
                 family: str) -> Problem | None:
    if _is_null(v):
        if needed:
            return Problem(i, name, "required", f"required field {name!r} is null (role "
                           f"family {family!r} requires it)")
        return None
    if spec.kind == "category":
        if not isinstance(v, str):
            return Problem(i, name, "type", f"field {name!r} must be a string "
                           f"({spec.describe()}), got {_type_name(v)}")
        if v not in spec.categories:
            return Problem(i, name, "category", f"field {name!r} must be {spec.describe()}")
        return None
    if not _is_number(v):
        return Problem(i, name, "type", f"field {name!r} must be a number, got "
                       f"{_type_name(v)}")
    x = float(v)
    low = -_LARGEST if spec.low is None else spec.low
    high = _LARGEST if spec.high is None else spec.high
    if not low <= x <= high:  # an infinity too
        return Problem(i, name, "range", f"field {name!r} is out of range (expected "
                       f"{spec.describe()})")
    if spec.kind == "count" and x != math.floor(x):
        return Problem(i, name, "whole", f"field {name!r} must be a whole number")
    return None


def _type_name(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list | tuple | np.ndarray):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    if _is_number(v):
        return "a number"
    return f"a {type(v).__name__}"


def _unknown(i: int, key: Any, acc: _Accepted) -> Problem:
    name = safe_name(key)
    if isinstance(key, str) and is_banned(key):
        return Problem(i, name, "protected", f"field {name!r} is a protected attribute or "
                       "personal data: it may never be sent to the model; remove it")
    if key in acc.derived:
        return Problem(i, name, "derived", f"field {name!r} is derived by the endpoint from "
                       f"{acc.derived[key]!r} and rater_ids; do not send it")
    close = difflib.get_close_matches(key, list(acc.specs), n=1) if isinstance(key, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return Problem(i, name, "unknown", f"field {name!r} is not an input of this model{hint}")


def _rater_ids_message(key: str, exc: RaterIdsError) -> str:
    """RaterIdsError's reason without the value it quotes."""
    text = str(exc)
    if text.startswith("lists "):
        return f"field {key!r} {text}"
    if text.startswith("must be"):
        return (f"field {key!r} must be a string of comma-separated interviewer pseudonyms, "
                "got something else")
    return (f"field {key!r} holds an entry that is not an interviewer pseudonym (32 "
            f"lowercase hex characters; at most {MAX_RATERS} per row)")


def check_records(records: Sequence[Mapping[str, Any]], contract: InputContract,
                  max_rows: int) -> list[Problem]:
    """Every problem of a request, row by row: the endpoint's one definition of a valid row.

    A row carries role_family (a known family), optionally request_id (a string of at most
    MAX_REQUEST_ID_CHARS) and rater_ids, and the contract's fields: numbers as JSON
    numbers (never strings or booleans), counts whole, categories as one of their strings,
    each in its range; null or absent where the row's family does not require it. Any
    other field is refused: protected attributes with their own rule, derived
    (rater-adjusted) fields with theirs. Messages name fields, never the values sent.
    """
    if len(records) == 0:
        return [Problem(None, None, "batch", "input has no rows")]
    if len(records) > max_rows:
        return [Problem(None, None, "batch", f"batch of {len(records)} rows exceeds the "
                        f"maximum of {max_rows} rows per request; split it")]
    acc = contract.accepted
    problems: list[Problem] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            problems.append(Problem(i, None, "type", "a row must be a JSON object of fields"))
            continue
        family = rec.get(ROLE_FAMILY)
        needed: tuple[str, ...] = ()
        if _is_null(family):
            problems.append(Problem(i, ROLE_FAMILY, "required",
                                    f"missing required field {ROLE_FAMILY!r}"))
        elif not isinstance(family, str):
            problems.append(Problem(i, ROLE_FAMILY, "type", f"field {ROLE_FAMILY!r} must be "
                                    f"a string, got {_type_name(family)}"))
        elif family not in acc.required:
            problems.append(Problem(i, ROLE_FAMILY, "category", f"field {ROLE_FAMILY!r} is "
                                    "not a known role family (known: "
                                    f"{', '.join(contract.families)})"))
        else:
            needed = acc.required[family]
        for key, v in rec.items():
            if key == ROLE_FAMILY:
                continue
            if key == REQUEST_ID:
                if not _is_null(v) and not isinstance(v, str):
                    problems.append(Problem(i, key, "type", f"field {key!r} must be a string, "
                                            f"got {_type_name(v)}"))
                elif isinstance(v, str) and len(v) > MAX_REQUEST_ID_CHARS:
                    problems.append(Problem(i, key, "length", f"field {key!r} is longer than "
                                            f"{MAX_REQUEST_ID_CHARS} characters"))
            elif key == RATER_IDS and acc.rater_ids:
                try:
                    parse_rater_ids(v)
                except RaterIdsError as exc:
                    problems.append(Problem(i, key, "format", _rater_ids_message(key, exc)))
            elif (spec := acc.specs.get(key)) is not None:
                kind = type(v)
                # the common case, decided here: a plain number in range
                if ((kind is float or kind is int) and (b := acc.bounds.get(key))
                        and b[0] <= v <= b[1] and (not b[2] or v == math.floor(v))):
                    continue
                found = _check_value(i, key, v, spec, key in needed,
                                     family if isinstance(family, str) else "")
                if found is not None:
                    problems.append(found)
            else:
                problems.append(_unknown(i, key, acc))
        for name in needed:
            if name not in rec:
                problems.append(Problem(i, name, "required", f"missing required field "
                                        f"{name!r} (role family {family!r} requires it)"))
    return problems


def _records(frame: Any) -> list[Mapping[str, Any]]:
    if isinstance(frame, pd.DataFrame):
        if not frame.columns.is_unique:
            dup = frame.columns[frame.columns.duplicated()][0]
            raise InputError([Problem(None, safe_name(dup), "duplicate",
                                      f"field {safe_name(dup)!r} appears more than once")])
        # one object matrix, then plain lists: values arrive as Python scalars (float, int,
        # bool, str, None/NaN), as JSON gives them; `to_dict` costs ten times more
        names = frame.columns.tolist()
        return [dict(zip(names, row, strict=True))
                for row in frame.to_numpy(dtype=object).tolist()]
    if isinstance(frame, Mapping):  # columns -> values, as pandas would read it
        try:
            return pd.DataFrame(frame).to_dict(orient="records")
        except (ValueError, TypeError):
            raise InputError([Problem(None, None, "format", "input is not a table of rows")]
                             ) from None
    if isinstance(frame, Sequence) and not isinstance(frame, str):
        return list(frame)
    raise InputError([Problem(None, None, "format", "input is not a table of rows")])


def validate(frame: Any, contract: InputContract, max_rows: int) -> pd.DataFrame:
    """Check a request and return it clean: role_family, request_id, then every contract field
    (numbers as float64 with NaN for absent, categories as str or None). Raises InputError
    listing every problem (`check_records`)."""
    return validate_rows(frame, contract, max_rows).frame()


def validate_rows(frame: Any, contract: InputContract, max_rows: int) -> CleanRows:
    """`validate`, returning arrays (CleanRows) instead of a DataFrame.

    `frame` is a DataFrame (in-process callers, batch scoring) or a list of records (the
    endpoint's JSON rows): both are checked by `check_records`, the one definition, and
    then read into the numbers matrix, rater-adjusted scores derived on the way.
    """
    records = _records(frame)
    problems = check_records(records, contract, max_rows)
    if problems:
        raise InputError(problems)
    return _read(records, contract)


def _read(records: Sequence[Mapping[str, Any]], contract: InputContract) -> CleanRows:
    """Checked records as CleanRows (nothing here can fail: `check_records` ran)."""
    checks = contract.number_checks
    adjusted = contract.adjusted
    offsets = contract.rater_offsets or RaterOffsets()
    numeric = [contract.fields[j].name for j in checks.positions]
    sources = [adjusted.get(n, n) for n in numeric]
    is_adjusted = [n in adjusted for n in numeric]
    n = len(records)
    table = [[rec.get(source) for source in sources] for rec in records]
    try:  # numbers and None (NaN) only: one conversion
        numbers = np.array(table, dtype=np.float64).reshape(n, len(sources))
    except (TypeError, ValueError):  # another null (pd.NA, NaT): value by value
        numbers = np.array([[np.nan if _is_null(v) else float(v) for v in row]
                            for row in table], dtype=np.float64).reshape(n, len(sources))
    if adjusted and any(is_adjusted):
        shift = np.array([offsets.mean_offset(parse_rater_ids(rec.get(RATER_IDS)))
                          for rec in records], dtype=np.float64)
        numbers[:, np.array(is_adjusted, dtype=bool)] -= shift[:, None]
    categories = {}
    for _, spec in contract.category_fields:
        values = np.empty(n, dtype=object)
        for i, rec in enumerate(records):
            v = rec.get(spec.name)
            values[i] = None if _is_null(v) else v
        categories[spec.name] = values
    families = np.array([rec[ROLE_FAMILY] for rec in records], dtype=object)
    ids = np.empty(n, dtype=object)
    for i, rec in enumerate(records):
        v = rec.get(REQUEST_ID)
        ids[i] = v if isinstance(v, str) and v else None
    return CleanRows(contract, families, ids, numbers, categories)


def input_hashes(clean: pd.DataFrame | CleanRows, contract: InputContract) -> list[str]:
    """SHA-256 of each row's canonical JSON: role family and the contract fields that hold a
    value, keys sorted, numbers as floats rounded to HASH_DECIMALS places. Absent and null
    hash alike; request_id is not part of it, so the same interview hashes the same online
    and in batch scoring (a mean that SQL and Python sum in another order may differ in its
    last bit; the rounding makes that no difference).
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
            canon[k] = round(float(v), HASH_DECIMALS) if _is_number(v) else v
        out.append(_digest(canon))
    return out


def _digest(canon: dict[str, Any]) -> str:
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
