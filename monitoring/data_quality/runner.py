"""Run suites with Great Expectations (ephemeral context) and build Data Docs (self-contained:
offline_docs ships the CSS/JS GX would fetch from CDNs).

One `DataQualityRunner` per run: one GX context on one PostgreSQL URL, a Data Docs site in
`docs_dir`. Result formats are SUMMARY with no unexpected values listed, so neither the
HTML nor the outcomes carry a value from the data (only counts).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from monitoring.data_quality.expectations import ROW_QUERY_TYPES
from monitoring.data_quality.offline_docs import make_self_contained
from monitoring.data_quality.suites import SuiteSpec

log = logging.getLogger(__name__)

DOCS_SITE = "hireloop"
# Counts only: GX lists no unexpected value, index or query anywhere.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0,
                 "include_unexpected_rows": False, "return_unexpected_index_query": False}


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: counts only."""

    expectation: str
    column: str | None
    reason: str
    table_level: bool
    success: bool
    unexpected_count: int | None
    element_count: int | None
    description: str | None = None
    error: str | None = None
    voids: bool = False  # a field defect: the field is voided, the row not quarantined

    @property
    def label(self) -> str:
        label = f"{self.reason}({self.column})" if self.column else self.reason
        return f"{label} voided" if self.voids else label


@dataclass
class SuiteOutcome:
    """One suite's validation: one outcome per expectation."""

    suite: str
    kind: str
    table: str
    run_id: str
    validated_at: dt.datetime
    seconds: float
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_url: str | None = None  # file:// URL of this validation's Data Docs page
    # GX's result and its store key (what Data Docs render), kept for the runner
    gx_key: object = field(default=None, repr=False, compare=False)
    gx_result: object = field(default=None, repr=False, compare=False)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def rows(self) -> int | None:
        return next((o.unexpected_count for o in self.outcomes if o.reason == "row_count"),
                    None)

    def by_reason(self) -> dict[str, int]:
        """Unexpected rows per reason (the row rules that quarantine)."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            if (not o.table_level and not o.voids and o.reason != "row_count"
                    and o.unexpected_count):
                out[o.reason] = out.get(o.reason, 0) + o.unexpected_count
        return out

    def field_defects(self) -> dict[tuple[str, str], int]:
        """Rows per (column, reason) whose field staging voids (quarantine.field_defects)."""
        return {(o.column, o.reason): o.unexpected_count for o in self.outcomes
                if o.voids and o.unexpected_count}


def redact(message: str) -> str:
    """The first line of a database error, quoted values after a colon redacted (a failed
    cast names the value it could not read)."""
    line = message.strip().splitlines()[0] if message.strip() else message
    return re.sub(r"(:\s*)(\"[^\"]*\"|'[^']*')", r"\1<redacted>", line)[:500]


def _exception_message(info) -> str | None:
    """The first error of a GX exception_info (flat, or keyed by metric), redacted."""
    if not info:
        return None
    if "exception_message" in info:
        return redact(str(info["exception_message"])) if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return redact(str(value.get("exception_message")))
    return None


def _outcome(result, rows: int | None) -> ExpectationOutcome:
    config = result.expectation_config
    meta = config.meta or {}
    res = result.result or {}
    exception = _exception_message(getattr(result, "exception_info", None))
    etype = config.type
    if etype in ROW_QUERY_TYPES:
        unexpected = res.get("observed_value")
        elements = rows
    elif etype == "expect_table_row_count_to_be_between":
        unexpected = res.get("observed_value")  # the row count itself
        elements = res.get("observed_value")
    else:
        unexpected = res.get("unexpected_count")
        elements = res.get("element_count", rows)
    return ExpectationOutcome(
        expectation=etype, column=meta.get("column") or config.kwargs.get("column"),
        reason=meta.get("reason", etype),
        table_level=bool(meta.get("table_level")), success=bool(result.success),
        unexpected_count=None if unexpected is None else int(unexpected),
        element_count=None if elements is None else int(elements),
        description=config.description, error=exception, voids=bool(meta.get("voids")))


def docs_dir_for(root: Path, kind: str) -> Path:
    """The Data Docs site of one suite kind (raw, staging, feature_store) under `root`.

    A GX site shows what its context validated and deletes other pages when it rebuilds its
    index; one site per kind keeps the latest run of each kind side by side.
    """
    return Path(root) / kind


def write_docs_index(root: Path) -> Path:
    """`root/index.html`: links to the site of each kind present (plain HTML, no data)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    links = "".join(f'<li><a href="{p.parent.name}/index.html">{p.parent.name}</a></li>'
                    for p in sorted(root.glob("*/index.html")))
    index = root / "index.html"
    index.write_text("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                     "<title>hireloop data quality</title></head><body>"
                     "<h1>hireloop data quality: Data Docs</h1>"
                     f"<ul>{links}</ul></body></html>\n", encoding="utf-8")
    return index


class DataQualityRunner:
    """Validates suites against one database and keeps their Data Docs in `docs_dir`
    (one site: the pages of this runner's validations; see `docs_dir_for`).

    `validate_all` runs up to `workers` suites at a time, each worker with a GX context of
    its own (a context is not shared between threads): while one waits on PostgreSQL, the
    next does GX's bookkeeping or runs its own query on another core. Their results join
    this runner's context, whose site renders them all.
    """

    def __init__(self, url: str, docs_dir: Path, workers: int = 2):
        import great_expectations as gx

        self._gx = gx
        self.url = url
        self.workers = max(1, int(workers))
        self.docs_dir = Path(docs_dir)
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        # Our own progress (validate_all) instead of a tqdm bar per metric batch.
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.add_data_docs_site(DOCS_SITE, {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "site_section_builders": {"expectations": "0", "profiling": "0"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(self.docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        # add_sql, not add_postgres: its URL check wants a host, ours may be a Unix socket.
        self.source = self.context.data_sources.add_sql(name="hireloop",
                                                             connection_string=url)

    @property
    def index_path(self) -> Path:
        return self.docs_dir / "index.html"

    def _forget(self, name: str) -> None:
        """Drop an earlier validation of the same suite from this context (its results and
        Data Docs pages stay)."""
        if name not in {a.name for a in self.source.assets}:
            return
        self.context.validation_definitions.delete(name)
        self.context.suites.delete(name)
        self.source.delete_asset(name)

    def _page_url(self, key) -> str | None:
        try:
            urls = self.context.get_docs_sites_urls(resource_identifier=key,
                                                    site_name=DOCS_SITE)
        except Exception:  # no page is no reason to lose the results
            log.warning("no Data Docs page for %s", key, exc_info=True)
            return None
        return next((u["site_url"] for u in urls if u.get("site_url")), None)

    def build_docs(self) -> Path:
        """Render the Data Docs of every validation of this runner (one pass: templates are
        compiled once); returns the site's index page."""
        self.context.build_data_docs(site_names=[DOCS_SITE])
        make_self_contained(self.docs_dir)  # no page loads anything from outside
        return self.index_path

    def validate(self, spec: SuiteSpec, run_id: str, build_docs: bool = True) -> SuiteOutcome:
        """Run one suite; returns its outcome (with its Data Docs page unless `build_docs`
        is False: `validate_all` renders once for all suites)."""
        gx = self._gx
        started = time.perf_counter()
        name = spec.name
        self._forget(name)
        asset = self.source.add_table_asset(name=name, table_name=spec.table,
                                            schema_name=spec.schema)
        batch = asset.add_batch_definition_whole_table(name)
        expectations = []
        for expectation in spec.expectations:
            # a copy: an expectation belongs to one suite, a spec may be validated again
            fresh = expectation.copy(deep=True)
            fresh.id = None
            expectations.append(fresh)
        # the suite whole, in one store write (add_expectation writes the suite each time)
        suite = self.context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        validated_at = dt.datetime.now(dt.UTC)
        # The definition runs itself and stores its result (a checkpoint around it would add
        # only a store write and a freshness check per suite: we have no actions).
        gx_run_id = gx.RunIdentifier(run_name=run_id)
        suite_result = definition.run(result_format=RESULT_FORMAT, run_id=gx_run_id)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
            run_id=gx_run_id, batch_identifier=suite_result.batch_id)
        results = suite_result.results
        rows = next((r.result.get("observed_value") for r in results
                     if r.expectation_config.type == "expect_table_row_count_to_be_between"),
                    None)
        outcome = SuiteOutcome(suite=name, kind=spec.kind, table=spec.relation, run_id=run_id,
                               validated_at=validated_at,
                               seconds=time.perf_counter() - started,
                               outcomes=[_outcome(r, rows) for r in results],
                               gx_key=key, gx_result=suite_result)
        if build_docs:
            self.build_docs()
            outcome.docs_url = self._page_url(key)
        log.info("%s: %d/%d expectations passed in %.1fs", name,
                 len(outcome.outcomes) - len(outcome.failed), len(outcome.outcomes),
                 outcome.seconds)
        return outcome

    def validate_all(self, specs: Iterable[SuiteSpec], run_id: str,
                     progress: Callable[[str], None] | None = None) -> list[SuiteOutcome]:
        """Run suites (up to `workers` at a time), reporting progress (`progress(message)`)
        as each ends, then render their Data Docs; outcomes come in the order of `specs`."""
        specs = list(specs)
        workers = min(self.workers, len(specs))
        runners: queue.SimpleQueue[DataQualityRunner] = queue.SimpleQueue()
        runners.put(self)
        for _ in range(workers - 1):
            runners.put(DataQualityRunner(self.url, self.docs_dir, workers=1))

        def run(spec: SuiteSpec) -> tuple[SuiteOutcome, DataQualityRunner]:
            runner = runners.get()
            try:
                return runner.validate(spec, run_id, build_docs=False), runner
            finally:
                runners.put(runner)

        out: dict[int, SuiteOutcome] = {}
        joining: list[SuiteOutcome] = []  # validated in another runner's context
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gx") as pool:
            futures = {pool.submit(run, spec): i for i, spec in enumerate(specs)}
            for done, future in enumerate(as_completed(futures), 1):
                outcome, runner = future.result()
                if runner is not self:
                    joining.append(outcome)
                out[futures[future]] = outcome
                if progress:
                    progress(f"[{done}/{len(specs)}] {outcome.suite}: "
                             f"{'pass' if outcome.success else f'{len(outcome.failed)} failing'} "
                             f"({outcome.seconds:.1f}s)")
        # once no worker uses this runner's context: its site renders every page
        for outcome in joining:
            self.context.validation_results_store.set(outcome.gx_key, outcome.gx_result)
        outcomes = [out[i] for i in range(len(specs))]
        started = time.perf_counter()
        self.build_docs()
        for outcome in outcomes:
            outcome.docs_url = self._page_url(outcome.gx_key)
        if progress:
            progress(f"Data Docs: {self.index_path} ({time.perf_counter() - started:.1f}s)")
        return outcomes
