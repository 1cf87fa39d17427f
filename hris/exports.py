"""The register of loaded exports (`raw._exports`), and the two rules every load obeys.

The as-of date (the export's date, or the simulator's clock) decides what is future and
what is mature. It is recorded with each load, so the feature store is built for the data's
own date, never the wall clock. The rules, checked by `admit` inside the load's own
transaction (so the CLI, the Dagster asset and the tests all get them, and a refused load
leaves nothing):

- **As-of.** The export loaded last governs (load order, not the greatest date). A real
  export states its as-of; the same export again at the as-of in force is a no-op (no
  register row; the raw store leaves unchanged rows alone anyway); an as-of
  earlier than the one in force is refused unless the load says, with a reason, that it
  corrects a wrong date (recorded in `corrects_as_of` / `correction_reason`).
- **Sandbox or real.** An installation is decided by the first export it receives: a
  sandbox (kind `simulator`: generated, or a simulated export folder) takes only simulated
  data, a real installation (kind `import`: an HR system's export) only real exports.
  Mixing them would train and serve a model on both without a word.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

SIMULATED = "simulator"  # raw._exports.kind of simulated data (generated or exported)
REAL = "import"  # raw._exports.kind of an HR system's export
SANDBOX, REAL_INSTALLATION = "sandbox", "real"
_INSTALLATION = {SIMULATED: SANDBOX, REAL: REAL_INSTALLATION}

_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._exports (
    export_id         bigserial PRIMARY KEY,
    source            text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('simulator', 'import')),
    as_of_date        date NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    corrects_as_of    date,
    correction_reason text
);
COMMENT ON TABLE raw._exports IS 'Loads in order: the last row''s as_of_date governs; the '
    'first row''s kind makes the installation a sandbox (simulator) or real (import).';
"""
# Columns added after the first release: added in place to an existing register.
_ADDED = {"corrects_as_of": "date", "correction_reason": "text"}
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
CORRECTION_HINT = "--correct-as-of REASON (Dagster config: correct_as_of)"
SEPARATE_HOME = ("use a separate installation for it: point HIRELOOP_HOME at another folder "
                 "(with HIRELOOP_DATABASE_URL set, at another database server too)")


class LoadRefused(Exception):
    """A load the rules above refuse; nothing was loaded. The message says what to do."""


@dataclass(frozen=True)
class ExportRecord:
    """One row of the register."""

    export_id: int
    source: str
    kind: str
    as_of: dt.date


@dataclass(frozen=True)
class Admission:
    """A load `admit` let through, and what the register will say about it."""

    kind: str
    as_of: dt.date
    in_force: ExportRecord | None
    correction: str | None = None
    source: str = ""

    @property
    def is_noop(self) -> bool:
        """The same source again at the as-of in force: the register keeps its last row."""
        last = self.in_force
        return (self.correction is None and last is not None and last.as_of == self.as_of
                and last.kind == self.kind and last.source == self.source)


def parse_date(text: str, what: str, example: str = "2025-06-30") -> dt.date:
    """An ISO date (YYYY-MM-DD); LoadRefused naming `what` it was meant to be otherwise."""
    value = text.strip()
    try:
        if not _ISO.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise LoadRefused(f"{what} {text!r} is not a date: write it as YYYY-MM-DD, "
                          f"e.g. {example}") from None


def parse_as_of(text: str | None) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) or None; LoadRefused with a one-line reason otherwise."""
    return None if text is None else parse_date(text, "as-of")


def ensure_register(cursor) -> None:
    """Create `raw._exports`, or bring an older one up to date (idempotent)."""
    cursor.execute("SELECT to_regclass('raw._exports')")
    if cursor.fetchone()[0] is None:
        cursor.execute(_DDL)
        return
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = '_exports'")
    have = {r[0] for r in cursor.fetchall()}
    for column, kind in _ADDED.items():
        if column not in have:  # ALTER only when needed: it locks out the register's readers
            cursor.execute(f"ALTER TABLE raw._exports ADD COLUMN IF NOT EXISTS {column} {kind}")


def record_export(cursor, source: str, kind: str, as_of: dt.date,
                  correction: str | None = None, corrects: dt.date | None = None) -> None:
    """Register one load (inside the caller's transaction, so a rolled-back load leaves none)."""
    ensure_register(cursor)
    cursor.execute(
        "INSERT INTO raw._exports (source, kind, as_of_date, corrects_as_of, correction_reason) "
        "VALUES (%s, %s, %s, %s, %s)", [source, kind, as_of, corrects, correction])


def _one(cursor, order: str) -> ExportRecord | None:
    cursor.execute("SELECT to_regclass('raw._exports')")
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute(f"SELECT export_id, source, kind, as_of_date FROM raw._exports "
                   f"ORDER BY export_id {order} LIMIT 1")
    row = cursor.fetchone()
    return ExportRecord(*row) if row else None


def export_in_force(cursor) -> ExportRecord | None:
    """The export loaded last (its as-of governs), or None when nothing was loaded yet."""
    return _one(cursor, "DESC")


def installation_kind(cursor) -> str | None:
    """`sandbox` or `real`, as the first export decided; None before any data arrived."""
    first = _one(cursor, "ASC")
    return None if first is None else _INSTALLATION[first.kind]


def latest_as_of(cursor) -> dt.date | None:
    """The as-of date of the export loaded last, or None when nothing was loaded yet."""
    last = export_in_force(cursor)
    return None if last is None else last.as_of


def required_as_of(cursor) -> dt.date:
    """`latest_as_of` for work that cannot start without an export (dbt, the checks)."""
    as_of = latest_as_of(cursor)
    if as_of is None:
        raise RuntimeError("no export loaded yet: materialise raw_hr_tables first")
    return as_of


def admit(cursor, kind: str, as_of: dt.date | None, *, source: str,
          correction: str | None = None, today: dt.date | None = None,
          lock: bool = True) -> Admission:
    """Decide, before anything is loaded, whether this load may go ahead; LoadRefused if not.

    Run it first in the load's transaction: with `lock` it holds the register (SHARE ROW
    EXCLUSIVE, until commit or rollback) so two loads cannot both find an empty, undecided
    installation. `today` bounds a real export's as-of (it cannot describe a day to come).
    """
    if kind not in _INSTALLATION:
        raise ValueError(f"kind must be {SIMULATED!r} or {REAL!r}, not {kind!r}")
    if as_of is None:
        raise LoadRefused("a real export must state its as-of date, the day the HR system "
                          "wrote it (--as-of YYYY-MM-DD): it decides which dates are in the "
                          "future and which hires are mature, so it is never guessed")
    if correction is not None:
        correction = correction.strip()
        if not correction:
            raise LoadRefused("--correct-as-of needs a reason (what was wrong with the "
                              "date in force); it is recorded with the correction")
    if kind == REAL:
        today = today or dt.date.today()
        if as_of > today:
            raise LoadRefused(f"as-of {as_of} is after today ({today}): an export cannot "
                              "describe a day to come; give the day it was written")
    ensure_register(cursor)
    if lock:
        cursor.execute("LOCK TABLE raw._exports IN SHARE ROW EXCLUSIVE MODE")
    installation = installation_kind(cursor)
    if installation is not None and installation != _INSTALLATION[kind]:
        raise LoadRefused(_mix_message(installation))
    in_force = export_in_force(cursor)
    if correction is not None:
        if in_force is None or as_of >= in_force.as_of:
            was = "nothing is loaded yet" if in_force is None else f"it is {in_force.as_of}"
            raise LoadRefused(f"--correct-as-of moves the as-of in force back, and {was}: "
                              f"drop the flag to load at {as_of}")
    elif in_force is not None and as_of < in_force.as_of:
        raise LoadRefused(
            f"as-of {as_of} is earlier than the as-of in force, {in_force.as_of} (export "
            f"#{in_force.export_id}): loading it would move back the date that decides what "
            f"is future and what is mature. If {in_force.as_of} was wrong, load again with "
            f"{CORRECTION_HINT}; the correction is recorded in raw._exports")
    return Admission(kind, as_of, in_force, correction, source)


def _mix_message(installation: str) -> str:
    if installation == REAL_INSTALLATION:
        return ("this installation is real (it holds an HR system's exports) and takes no "
                "simulated data: a model would be trained and served on both (to rebuild "
                "from a real export: hireloop build --import-dir DIR --as-of DATE). To try "
                "the simulator, " + SEPARATE_HOME)
    return ("this installation is a sandbox (it holds simulated data) and takes no real "
            "export: a model would be trained and served on both. To import real data, "
            + SEPARATE_HOME)


def describe_in_force(cursor) -> str:
    """One line for the user after a load: the installation and the as-of now in force."""
    kind = installation_kind(cursor)
    if kind is None:
        return "nothing loaded yet"
    cursor.execute("SELECT export_id, as_of_date, corrects_as_of FROM raw._exports "
                   "ORDER BY export_id DESC LIMIT 1")
    export_id, as_of, corrects = cursor.fetchone()
    fixed = f", correcting {corrects}" if corrects else ""
    return f"{kind} installation; as-of in force: {as_of} (export #{export_id}{fixed})"


def record_admitted(cursor, admission: Admission) -> bool:
    """Register an admitted load (unless it is a no-op); True when a row was added."""
    if admission.is_noop:
        return False
    corrects = admission.in_force.as_of if admission.correction else None
    record_export(cursor, admission.source, admission.kind, admission.as_of,
                  correction=admission.correction, corrects=corrects)
    return True
