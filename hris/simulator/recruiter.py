"""The simulated person who decides: the old process's verdict and the model's band together.

The model never decides alone and its band never says reject (advance / review / hold). The
person follows the old process (the interviewers' rounds, hris.simulator.interviews) unless
the band gives reason to look again:
- the old process would offer and the band says `hold`: the person withdraws the offer with
  probability HOLD_VETO;
- the director round rejected the candidate and the band says `advance`: the person makes an
  offer anyway with probability RESCUE (only finalists: someone rejected earlier never met the
  business or director interviewers, so there is nothing to overrule with);
- a candidate the endpoint refused to score is decided by the old process alone.
"""

from __future__ import annotations

import numpy as np

# The old process's verdict on a candidate whose rounds are over.
OFFER, REJECTED_FINAL, REJECTED_EARLY = "offer", "rejected_final", "rejected_early"
VERDICTS = (OFFER, REJECTED_FINAL, REJECTED_EARLY)
BANDS = ("advance", "review", "hold")
HOLD_VETO = 0.5
RESCUE = 0.5
DECIDED_BY = "simulated hiring manager"
# What a person decides: the one vocabulary of monitoring.hiring_decisions, whoever decides
# (the simulated person, a reviewer through `hireloop decide` or the interview tool's HTTP
# API). The simulated person ends a candidate's process (offer / reject); a reviewer may also
# move a candidate on to the next round (advance) or park them (hold).
OFFER_DECISION, REJECT_DECISION = "offer", "reject"
DECISIONS = (OFFER_DECISION, REJECT_DECISION, "advance", "hold")
_VERDICT_TEXT = {OFFER: "the interview rounds would offer",
                 REJECTED_FINAL: "the director round rejected",
                 REJECTED_EARLY: "an earlier round rejected"}


def decide(verdict: np.ndarray, band: np.ndarray, u: np.ndarray
           ) -> tuple[np.ndarray, list[str]]:
    """(decision 'offer'/'reject' per candidate, its reason) from the verdict, the band
    (None: not scored) and a uniform draw `u` per candidate."""
    verdict, band = np.asarray(verdict, dtype=object), np.asarray(band, dtype=object)
    veto = (verdict == OFFER) & (band == "hold") & (u < HOLD_VETO)
    rescue = (verdict == REJECTED_FINAL) & (band == "advance") & (u < RESCUE)
    offer = ((verdict == OFFER) & ~veto) | rescue
    reasons = []
    for v, b, vetoed, rescued in zip(verdict, band, veto, rescue, strict=True):
        said = "not scored (the endpoint refused it)" if b is None else f"band {b}"
        if vetoed:
            why = "the band asked to hold and, on review, the offer was withdrawn"
        elif rescued:
            why = "the band said advance and, on review, an offer was made anyway"
        else:
            why = "followed the interview rounds"
        reasons.append(f"{_VERDICT_TEXT[v]}; {said}; {why}")
    return np.where(offer, OFFER_DECISION, REJECT_DECISION).astype(object), reasons
