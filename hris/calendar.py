"""Calendar quarters as the whole platform names them ("2024-Q3"): one definition."""

from __future__ import annotations

import datetime as dt


def quarter_of(day: dt.date) -> str:
    """The quarter `day` falls in, as "YYYY-Qn"."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
