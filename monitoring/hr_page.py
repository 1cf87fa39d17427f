"""The frame every page for HR people shares: language, charset, layout, date, no outside asset.

A page is built from escaped fragments and wrapped by `document`, which sets `<html lang>`
from the Translator, `<meta charset="utf-8">`, a readable layout (system fonts that carry
Chinese, tables that scroll instead of clipping) and the generated-at line. Nothing here
loads a file from anywhere: the style is inline, charts are HTML/CSS or inline SVG.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence

from monitoring.i18n import Translator

STYLE = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB",
 "Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC",sans-serif;
 line-height:1.55;color:#1f2328;background:#fff;margin:0}
main{max-width:1180px;margin:0 auto;padding:1.5em 1.2em 3em}
h1{font-size:1.6em;margin:.2em 0 .4em}h2{font-size:1.25em;margin:1.6em 0 .4em;
 border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{font-size:1.05em;margin:1.1em 0 .3em}
.meta{color:#57606a;margin:.2em 0}.note{background:#f6f8fa;border-left:4px solid #8c959f;
 padding:.5em .8em;margin:.6em 0}.warn{background:#fff8c5;border-left-color:#bf8700}
.scroll{overflow-x:auto;max-width:100%}
table.t{border-collapse:collapse;margin:.4em 0}
.t th,.t td{border-bottom:1px solid #d8dee4;padding:4px 10px;text-align:left;
 vertical-align:top}
.t th{background:#f6f8fa;font-weight:600}.t td.n{text-align:right;
 font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{display:inline-block;width:16em;max-width:40vw;height:.9em;background:#e6efe6;
 vertical-align:middle;border-radius:2px}
.bar>span{display:block;height:100%;background:#c0504d;border-radius:2px}
code{background:#f6f8fa;padding:0 .25em;border-radius:3px}
footer{color:#57606a;font-size:.9em;margin-top:2em}
"""


NUMERIC_CELL = ' class="n"'


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def number(n: int | float) -> str:
    return f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"


def percent(share: float) -> str:
    return f"{share:.1%}"


def heading(level: int, text: str) -> str:
    return f"<h{level}>{esc(text)}</h{level}>"


def link(href: str, text: str) -> str:
    """A link to a page of ours (relative `href`: nothing outside the reports folder)."""
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def share_bar(share: float) -> str:
    """A horizontal bar for a share in [0, 1] (HTML/CSS: its label sits beside it, in text)."""
    width = max(0.0, min(share, 1.0)) * 100
    shown = f"{max(width, 0.4):.2f}" if share > 0 else "0"
    return f'<span class="bar" aria-hidden="true"><span style="width:{shown}%"></span></span>'


def table(headers: Sequence[str], rows: Iterable[Sequence[object]],
          numeric: Sequence[bool] | None = None, raw_html: Sequence[bool] | None = None) -> str:
    """An HTML table; cells are escaped unless marked `raw_html` (already built markup)."""
    numeric = numeric or [False] * len(headers)
    raw_html = raw_html or [False] * len(headers)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value, is_num, is_html in zip(row, numeric, raw_html, strict=True):
            text = value if is_html else esc(number(value) if is_num and isinstance(
                value, int | float) else value)
            cells.append(f"<td{NUMERIC_CELL if is_num else ''}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="t"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def generated_line(t: Translator, generated_at: dt.datetime) -> str:
    _ = t.gettext
    stamp = generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return esc(_("Generated at {time}").format(time=stamp))


def document(t: Translator, title: str, body: str, generated_at: dt.datetime) -> str:
    """The whole page: `<html lang>` of the language, UTF-8, inline style, generated-at."""
    return (f'<!doctype html>\n<html lang="{t.html_lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>"
            f"{body}<footer>{generated_line(t, generated_at)} · hireloop</footer>"
            "</main></body></html>\n")
