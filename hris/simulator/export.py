"""Turn simulated arrays into raw-contract frames holding values as exported (str or None).

Strings are built once per distinct value (lookup tables for dates, small integers and score
lattices) and shared by reference, which keeps a million-candidate export within memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hris.contract import RAW_TABLES
from hris.simulator.world import NO_DAY

TRUE_FALSE = np.array(["false", "true"], dtype=object)


def obj(values) -> np.ndarray:
    """A 1-D object array holding the given values (str or None) as they are."""
    out = np.empty(len(values), dtype=object)
    out[:] = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return out


def day_str(days: np.ndarray) -> np.ndarray:
    """ISO dates for days since 1970-01-01; NO_DAY entries become None."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), None, dtype=object)
    ok = days != NO_DAY
    if ok.any():
        lo, hi = days[ok].min(), days[ok].max()
        table = obj(np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]")))
        out[ok] = table[days[ok] - lo]
    return out


def int_str(values: np.ndarray) -> np.ndarray:
    """Integers as text via a lookup table (values must be a compact range)."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return np.empty(0, dtype=object)
    lo, hi = values.min(), values.max()
    table = obj([str(i) for i in range(lo, hi + 1)])
    return table[values - lo]


def lattice_str(values: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers on a 10**-decimals lattice as text (NaN -> None), via a lookup table."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), None, dtype=object)
    ok = ~np.isnan(values)
    if ok.any():
        k = np.rint(values[ok] * 10**decimals).astype(np.int64)
        lo, hi = k.min(), k.max()
        table = obj([f"{i / 10**decimals:.{decimals}f}" for i in range(lo, hi + 1)])
        out[ok] = table[k - lo]
    return out


def float_str(values: np.ndarray, decimals: np.ndarray | int) -> np.ndarray:
    """Arbitrary floats as text with per-row decimals."""
    values = np.asarray(values, dtype=float)
    decimals = np.broadcast_to(np.asarray(decimals), values.shape)
    out = np.empty(len(values), dtype=object)
    for d in np.unique(decimals):
        sel = decimals == d
        out[sel] = [f"{v:.{d}f}" for v in values[sel]]
    return out


def ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return obj([f"{prefix}{i:0{width}d}" for i in numbers])


def frame(table: str, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A raw frame with exactly the contract's columns, in order, as object dtype."""
    spec = RAW_TABLES[table].columns
    missing = set(spec) ^ set(columns)
    if missing:
        raise ValueError(f"{table}: columns differ from the contract: {sorted(missing)}")
    return pd.DataFrame({c: pd.Series(columns[c], dtype=object) for c in spec})
