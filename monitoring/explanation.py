"""What the model used and why, for one candidate who asks (`hireloop explain`).

GDPR Art. 15(1)(h) and 22(3), PIPL Art. 24: a candidate may learn that a model took part,
the logic involved and what it meant for them, and that a person decided. The export holds,
for that one candidate and no one else: the features the model used (their values, as the
feature store holds them), the latest score (probability, band, model version, when), the
reasons that moved it most (SHAP contributions summed per interview dimension, in words),
every human decision recorded about them, and a plain statement that a person decides.

Protected attributes (sex, age, race/ethnicity) are not model inputs (ml.features bans them
by name; the feature store keeps them only for the fairness audit), so no such value is
listed. The score is recomputed from the feature store's row with the version that gave it;
when the logged score's input hash differs (the interview tool sent records the feature
store does not hold yet, or the export changed since), the export says so rather than
present other inputs as the ones used.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hris.pseudonym import pseudonym
from ml.batch_scoring import request_frame
from ml.datasets import read_frame
from ml.features import FAMILY_COLUMN
from ml.model import ONEHOT_PREFIX
from ml.pyfunc_model import contract_of, score_frame
from ml.scoring_input import input_hashes, validate
from monitoring.hiring_decisions import read_decisions, role_family_of, score_answered
from monitoring.hr_page import document, esc, heading, table
from monitoring.i18n import LANGUAGES, N_, Translator, translator
from monitoring.reason_text import explain, reason_text

KIND = "hireloop.candidate_explanation"
FEATURES_SQL = ("SELECT * FROM intermediate.int_candidate_features_joined "
                "WHERE candidate_id = %s")
DECISION_FIELDS = ("decided_at", "decision", "decided_by", "reason", "model_version",
                   "probability", "band", "request_id")
STATEMENT = N_("A person decides. The model's score supports the people who interview you; "
             "it never decides alone and its band never says reject (advance, review, hold). "
             "Sex, age and race/ethnicity are not inputs of the model. You may ask for a "
             "person to review any decision and give your point of view.")
NO_FEATURES = N_("The feature store holds no interview features for this candidate now; the "
                 "score was computed from the records the interview tool sent.")
SAME_INPUTS = N_("These are the inputs of the logged score.")
OTHER_INPUTS = N_("The logged score was computed from other inputs (records the interview "
                  "tool sent, or an earlier export); these are the feature store's values "
                  "now, scored by the same version.")
WORDS = {"advance": N_("advance"), "review": N_("review"), "hold": N_("hold"),
         "offer": N_("offer"), "reject": N_("reject")}


class ExplainRefused(ValueError):
    """No explanation can be given; the message says what to do."""


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def candidate_explanation(conn, key: bytes, candidate_id: str,
                          load_model: Callable[[str], Any], language: str = "en",
                          generated_at: dt.datetime | None = None) -> dict[str, Any]:
    """The export for the HR system's `candidate_id` (JSON-able). `load_model(version)`
    gives the registered version's HireloopModel. ExplainRefused says why none can be."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    who = pseudonym(key, candidate_id)
    with conn.cursor() as cur:
        score = score_answered(cur, who)
        family = role_family_of(cur, who)
        decisions = read_decisions(cur, candidate_pseudonym=who)
    conn.rollback()
    if score is None:
        raise ExplainRefused(
            f"no candidate {candidate_id} is known to hireloop: check the HR system's id"
            if family is None else
            f"the model has not scored candidate {candidate_id}: there is nothing it used "
            "to explain (decisions recorded without a score stay in the HR system)")
    row = read_frame(conn, FEATURES_SQL, (who,))
    model = load_model(str(score["model_version"]))
    out: dict[str, Any] = {
        "kind": KIND, "generated_at": generated_at.isoformat(), "language": language,
        "candidate_id": candidate_id, "role_family": family,
        "score": {"model_version": str(score["model_version"]),
                  "probability": float(score["probability"]), "band": score["band"],
                  "scored_at": _plain(score["scored_at"]), "request_id": score["request_id"]},
        "decisions": [{k: _plain(r[k]) for k in DECISION_FIELDS}
                      for _, r in decisions.iterrows()],
        "statement": STATEMENT,
    }
    out.update(_inputs_and_reasons(model, row, family, score, language))
    return out


def _inputs_and_reasons(model: Any, row: pd.DataFrame, family: str | None,
                        score: dict[str, Any], language: str) -> dict[str, Any]:
    """The features the version uses for the family, their values, the reasons, and whether
    the feature store's row is the one the logged score was computed from."""
    if row.empty or family is None or family not in getattr(model, "families", {}):
        return {"features": [], "reasons": [], "inputs_match_score": False,
                "inputs_note": NO_FEATURES}
    used = [f for f in model.families[family].features if not f.startswith(ONEHOT_PREFIX)]
    contract = contract_of(model).feature_rows()
    clean = validate(request_frame(row.assign(**{FAMILY_COLUMN: family}), contract),
                     contract, 1)
    scored = score_frame(model, clean, str(score["model_version"])).to_dict("records")[0]
    explain([scored], translator(language))
    first = row.iloc[0]
    features = [{"name": f, "value": _plain(first[f]) if f in row.columns else None}
                for f in used]
    same = input_hashes(clean, contract)[0] == score.get("input_hash")
    return {
        "features": features,
        "reasons": scored["reason_details"],
        "recomputed_probability": float(scored["probability"]),
        "inputs_match_score": bool(same),
        "inputs_note": SAME_INPUTS if same else OTHER_INPUTS,
    }


def _word(t: Translator, word: Any) -> str:
    return t.gettext(WORDS[word]) if word in WORDS else str(word)


def explanation_page(t: Translator, data: dict[str, Any], generated_at: dt.datetime) -> str:
    """The export as one self-contained, dated HTML page in `t`'s language."""
    _ = t.gettext
    title = _("What the model used, and why")
    s = data["score"]
    parts = [heading(1, title), f"<p><strong>{esc(_(STATEMENT))}</strong></p>",
             heading(2, _("The score")),
             table([_("Model version"), _("Probability"), _("Band"), _("Scored at")],
                   [[s["model_version"], f"{s['probability']:.3f}", _word(t, s["band"]),
                     s["scored_at"]]], [False, True, False, False]),
             heading(2, _("What moved it most")),
             table([_("Reason"), _("Log-odds")],
                   [[reason_text(r, t), f"{r['log_odds']:+.2f}"]
                    for r in data["reasons"]], [False, True]),
             heading(2, _("The inputs the model used")),
             f"<p>{esc(_(data['inputs_note']))}</p>",
             table([_("Feature"), _("Value")],
                   [[f["name"], "—" if f["value"] is None else f["value"]]
                    for f in data["features"]], [False, True]),
             heading(2, _("Decisions people made")),
             table([_("When"), _("Decision"), _("Who"), _("Why")],
                   [[d["decided_at"], _word(t, d["decision"]), d["decided_by"], d["reason"]]
                    for d in data["decisions"]])
             if data["decisions"] else f"<p>{esc(_('No decision is recorded yet.'))}</p>"]
    return document(t, title, "".join(parts), generated_at)


def write_explanation(data: dict[str, Any], out: Path, generated_at: dt.datetime
                      ) -> list[Path]:
    """`out` (JSON) and one HTML page per language beside it (`<stem>.<language>.html`),
    owner-only: it is one person's data."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out]
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    for language in LANGUAGES:
        page = out.with_name(f"{out.stem}.{language}.html")
        page.write_text(explanation_page(translator(language), data, generated_at),
                        encoding="utf-8")
        written.append(page)
    for path in written:
        path.chmod(0o600)
    return written
