"""Synthetic HRIS: a seeded world of applicants, interviews and job performance (DESIGN.md).

`simulate` draws the raw export (every value a str or None, as an HR system exports it) and
the truth; `p_observable` is the Bayes-optimal ceiling given the recorded interview evidence;
`write_truth` stores the truth in schema sim_truth.
"""

from hris.simulator.ceilings import p_observable
from hris.simulator.generate import SimulatedHRIS, simulate
from hris.simulator.truth import write_truth

__all__ = ["SimulatedHRIS", "p_observable", "simulate", "write_truth"]
