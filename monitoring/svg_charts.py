"""Inline SVG bar charts for HR pages: no script, no outside file, readable in any language.

Horizontal bars (row labels at the left, so a long or Chinese label never overlaps the
next), one or more series per row, an optional interval whisker per bar, the value written
at the bar's end, a legend, and a tooltip per bar. The figures are also in the tables
beside each chart; the chart is for looking, the table for reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitoring.hr_page import esc

PALETTE = ("#2f6f9f", "#d08c2e", "#8c959f", "#5a9e5a")
LABEL_WIDTH = 190
BAR_AREA = 380
VALUE_WIDTH = 120
BAR_HEIGHT = 14
GAP = 4
ROW_GAP = 10


@dataclass(frozen=True)
class Bar:
    value: float | None  # in [0, scale]; None: nothing to draw (e.g. nobody in the band)
    text: str            # written at the bar's end and in its tooltip
    low: float | None = None
    high: float | None = None


def _x(value: float, scale: float) -> float:
    return LABEL_WIDTH + max(0.0, min(value / scale, 1.0)) * BAR_AREA


def hbar_chart(rows: Sequence[tuple[str, Sequence[Bar]]], series: Sequence[str],
               caption: str, scale: float = 1.0) -> str:
    """A figure: for each (label, bars) row one bar per series, in PALETTE's colours."""
    n_series = max(1, len(series))
    row_height = n_series * (BAR_HEIGHT + GAP) - GAP + ROW_GAP
    legend = 22 if len(series) > 1 else 0
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height = legend + len(rows) * row_height + 6
    parts = [f'<rect x="{LABEL_WIDTH}" y="{legend}" width="{BAR_AREA}" '
             f'height="{height - legend}" fill="#f6f8fa"/>']
    for tick in (0.25, 0.5, 0.75):
        x = _x(tick * scale, scale)
        parts.append(f'<line x1="{x:.1f}" y1="{legend}" x2="{x:.1f}" y2="{height}" '
                     'stroke="#d0d7de" stroke-width="1"/>')
    for i, name in enumerate(series if len(series) > 1 else ()):
        x = LABEL_WIDTH + i * 150
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{x + 16}" y="14" '
                     f'font-size="12">{esc(name)}</text>')
    for r, (label, bars) in enumerate(rows):
        top = legend + r * row_height + ROW_GAP / 2
        middle = top + (row_height - ROW_GAP) / 2 + 4
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{middle:.1f}" font-size="12" '
                     f'text-anchor="end">{esc(label)}</text>')
        for s, bar in enumerate(bars):
            y = top + s * (BAR_HEIGHT + GAP)
            colour = PALETTE[s % len(PALETTE)]
            tip = f"{label} · {series[s]}: {bar.text}" if len(series) > 1 else \
                f"{label}: {bar.text}"
            if bar.value is not None:
                end = _x(bar.value, scale)
                parts.append(f'<rect x="{LABEL_WIDTH}" y="{y:.1f}" '
                             f'width="{end - LABEL_WIDTH:.1f}" height="{BAR_HEIGHT}" '
                             f'fill="{colour}"><title>{esc(tip)}</title></rect>')
            if bar.low is not None and bar.high is not None:
                lo, hi, c = _x(bar.low, scale), _x(bar.high, scale), y + BAR_HEIGHT / 2
                parts.append(f'<path d="M{lo:.1f},{c:.1f}H{hi:.1f}M{lo:.1f},{y + 2:.1f}'
                             f'V{y + BAR_HEIGHT - 2:.1f}M{hi:.1f},{y + 2:.1f}'
                             f'V{y + BAR_HEIGHT - 2:.1f}" stroke="#1f2328" '
                             'stroke-width="1.2" fill="none"/>')
            parts.append(f'<text x="{LABEL_WIDTH + BAR_AREA + 6}" y="{y + BAR_HEIGHT - 3:.1f}" '
                         f'font-size="11" fill="#57606a">{esc(bar.text)}</text>')
    return (f'<figure><svg viewBox="0 0 {width} {height:.0f}" width="100%" '
            f'style="max-width:{width}px;font-family:inherit" role="img" '
            f'aria-label="{esc(caption)}">{"".join(parts)}</svg>'
            f"<figcaption>{esc(caption)}</figcaption></figure>")
