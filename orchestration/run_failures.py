"""Why a Dagster run stopped, in words a user can act on.

Two kinds of stop. An *expected* one is the data (or the model) failing a check: a
blocking Great Expectations check, a dbt test on the data, the model's soundness check.
The platform did its job; the user gets what failed and what to do, not a traceback. An
*unexpected* one is any other step error (a bug, a server gone): the user gets the step,
the error and its stack, enough to debug or report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, DagsterEventType

from hris.export_files import ImportRefused
from hris.profile import ProfileError

# Errors that are a refusal of the user's input, with a message that says what to do
# (by class name: a step's error reaches us serialised). Add new refusals here.
REFUSALS = (ImportRefused.__name__, ProfileError.__name__)
# The ingest step turns a refused load (hris.exports.LoadRefused, ImportRefused,
# ProfileError) into a dagster Failure whose description starts with this.
LOAD_REFUSED = "load refused: "

# What to do, per check (the GX checks and the model gate; dbt tests share one text).
ADVICE = {
    "raw_table_contract": (
        "The export breaks the raw contract (above), so dbt did not build from it. Correct "
        "the export in the HR system and import it again (`hireloop import --check` first); "
        "`hireloop contract` lists what each table needs."),
    "feature_store_suite": (
        "The feature store is not fit for training (above): nothing was trained, registered "
        "or deployed, and the champion, if any, keeps serving. The quarantine table above and "
        "the steward's page say which rows were held back and why; correct them in the HR "
        "system (or load more history), then run `hireloop build` again."),
    "trained_model_is_sound": (
        "The trained model failed its soundness check (above): it was not registered and the "
        "champion, if any, keeps serving. Its MLflow run shows the figures."),
    "promotion_is_fair": (
        "The challenger failed the fairness gate (above): a category's impact ratio is under "
        "four-fifths with a significant difference, or sank under it below the champion's. "
        "It was not promoted and nothing new was deployed; the champion, if any, keeps "
        "serving. The version's promotion tags hold the figures. Look for the cause in the "
        "data (the fairness report's interview-rating findings) before retraining; never "
        "lower a threshold for one group."),
}
DBT_TEST_ADVICE = (
    "A dbt test failed on the data (above): the models after it, and training, did not run. "
    "Rows that break it passed the quarantine rules: correct them in the HR system and "
    "import again, and report the test's name (a quarantine rule is missing).")
DBT_STEP = "feature_store"


@dataclass(frozen=True)
class FailedCheck:
    """A check that failed with ERROR severity (what stops a run)."""

    asset: str
    check: str
    description: str
    from_dbt: bool

    @property
    def advice(self) -> str:
        return DBT_TEST_ADVICE if self.from_dbt else ADVICE.get(
            self.check, "Fix what the check names, then run `hireloop build` again.")


@dataclass(frozen=True)
class StepError:
    """A step that failed for a reason no check explains."""

    step: str
    error: str  # class and message of the innermost cause
    details: str  # the whole error chain with stacks


@dataclass(frozen=True)
class RunFailure:
    """Why one run stopped: failed checks (expected) and step errors (unexpected)."""

    run_id: str
    checks: list[FailedCheck]
    errors: list[StepError]
    refusals: list[str] = field(default_factory=list)  # refused input, in its own words

    @property
    def expected(self) -> bool:
        """Only checks or refusals stopped the run: the data failed, nothing broke."""
        return not self.errors

    def message(self) -> str:
        """What failed and what to do (no stack traces)."""
        lines = [f"The build stopped (Dagster run {self.run_id}):"]
        lines += [f"- refused: {r}" for r in self.refusals]
        for c in self.checks:
            lines.append(f"- check {c.check} on {c.asset} failed: {c.description}")
        for e in self.errors:
            lines.append(f"- step {e.step} failed: {e.error}")
        lines.append("")
        seen: list[str] = []
        for advice in [c.advice for c in self.checks]:
            if advice not in seen:
                seen.append(advice)
        lines += seen
        if self.refusals:
            lines.append("The input was refused before anything was loaded from it: fix what "
                         "the refusal names, then run again (`hireloop import --check DIR` "
                         "checks an export without building).")
        if self.errors:
            lines.append("This is not a data problem hireloop knows: the details follow, "
                         "and the run's log is in the Dagster UI (`hireloop ui`, Runs).")
        return "\n".join(lines)


def _innermost(error):
    while error.cause is not None:
        error = error.cause
    return error


def _bare(error) -> str:
    """The error's own message, without the `module.Class: ` Dagster puts before it."""
    return re.sub(rf"^[\w.]*\b{re.escape(error.cls_name)}: ", "", error.message.strip())


def _one_line(error) -> str:
    if error is None:
        return "unknown error"
    message = error.message.strip()
    return message if message.startswith(error.cls_name) else f"{error.cls_name}: {message}"


def failed_checks(result) -> list[FailedCheck]:
    """Every ERROR-severity check that did not pass in `result` (an in-process result)."""
    checks = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != AssetCheckSeverity.ERROR:
            continue
        checks.append(FailedCheck(
            asset=evaluation.asset_key.to_user_string(), check=evaluation.check_name,
            description=(evaluation.description or "no description").strip(),
            from_dbt=_from_dbt(result, evaluation)))
    return checks


def _from_dbt(result, evaluation) -> bool:
    """Whether the dbt step yielded this evaluation (a dbt test, not a GX check)."""
    return any(e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
               and e.step_key == DBT_STEP
               and e.event_specific_data.check_name == evaluation.check_name
               and e.event_specific_data.asset_key == evaluation.asset_key
               for e in result.all_events)


_DBT_TEST_FAILURE = re.compile(r"Failure in test (\S+)")
_DBT_ERROR = re.compile(r"\b(Database|Compilation|Runtime|Parsing|Dependency) Error\b")


def dbt_failed_tests(message: str) -> list[str]:
    """The dbt tests a dbt CLI error reports as failed, when failed tests are all it
    reports (any dbt error besides, e.g. a model's SQL, makes it an error: [])."""
    if "dbt CLI process" not in message or _DBT_ERROR.search(message):
        return []
    return list(dict.fromkeys(_DBT_TEST_FAILURE.findall(message)))


def explain_failure(result) -> RunFailure | None:
    """None when the run succeeded; else the failed checks and the unexplained errors.

    A step failure is explained when it is a blocking check's own failure, or the dbt step
    failing because one of its tests did; any other step failure is an error.
    """
    if result.success:
        return None
    checks = failed_checks(result)
    dbt_tests_failed = any(c.from_dbt for c in checks)
    errors, refusals = [], []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        inner = _innermost(error) if error is not None else None
        if inner is not None and inner.cls_name == "DagsterAssetCheckFailedError" and checks:
            continue
        if event.step_key == DBT_STEP and dbt_tests_failed:
            continue
        if inner is not None and inner.cls_name in REFUSALS:
            refusals.append(_bare(inner))
            continue
        if inner is not None and LOAD_REFUSED in inner.message:
            refusals.append(inner.message.split(LOAD_REFUSED, 1)[1].strip())
            continue
        tests = dbt_failed_tests(inner.message) if inner is not None else []
        if tests:  # dbt tests that are no asset checks (e.g. singular tests on two models)
            known = {c.check for c in checks}
            checks += [FailedCheck(asset="dbt", check=t, description="dbt test failed on "
                                   "the data", from_dbt=True) for t in tests if t not in known]
            continue
        errors.append(StepError(step=event.step_key or "?", error=_one_line(inner),
                                details=error.to_string() if error is not None else ""))
    if not (checks or errors or refusals):  # the run itself failed (a resource, its worker)
        errors.append(_run_error(result.all_events))
    return RunFailure(result.run_id, checks, errors, refusals)


def _run_error(events) -> StepError:
    """Why a run failed outside any step: its failure event's error (a resource that could
    not start, the run worker lost), else its message (e.g. cancelled)."""
    for event in events:
        if event.event_type != DagsterEventType.RUN_FAILURE:
            continue
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            return StepError(step="run", error=_one_line(_innermost(error)),
                             details=error.to_string())
        if event.message:
            return StepError(step="run", error=event.message.strip(), details="")
    return StepError(step="run", error="the run failed without a failed step or check",
                     details="")


def dbt_ran(result) -> bool:
    """Whether dbt started building the feature store in this run (pass or fail)."""
    return any(e.is_step_start and e.step_key == DBT_STEP for e in result.all_events)
