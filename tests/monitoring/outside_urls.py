"""Find every outside URL a page or stylesheet would request (a test helper).

Written apart from monitoring.data_quality.offline_docs (which rewrites pages) so a gap in
one is not hidden by the same gap in the other: an HTML parser reads every URL attribute,
inline style and <style> block; CSS is read for url() and @import.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

URL_ATTRS = {"href", "src", "srcset", "poster", "data", "action", "formaction", "background",
             "xlink:href", "cite", "manifest", "icon", "longdesc", "ping"}
# an outside address: http(s)/ws(s)/ftp, or protocol-relative //host
OUTSIDE = re.compile(r"^\s*(?:(?:https?|wss?|ftp):)?//", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?([^'\")\s;]+)", re.I)
PAGE_SUFFIXES = {".html", ".htm", ".xhtml", ".svg"}


def css_outside_urls(text: str) -> list[str]:
    refs = _CSS_URL.findall(text) + _CSS_IMPORT.findall(text)
    return [r for r in refs if OUTSIDE.match(r)]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.found += css_outside_urls(value)
            elif name in URL_ATTRS:
                parts = [p.strip().split(" ")[0] for p in value.split(",")] if name == "srcset" \
                    else [value]
                self.found += [p for p in parts if OUTSIDE.match(p)]
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += css_outside_urls(data)


def page_outside_urls(text: str) -> list[str]:
    parser = _Refs()
    parser.feed(text)
    parser.close()
    return parser.found


def outside_urls_under(root: Path) -> dict[str, list[str]]:
    """Outside URLs per file (pages and stylesheets) under `root`; empty when self-contained."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix in PAGE_SUFFIXES:
            found = page_outside_urls(path.read_text(encoding="utf-8", errors="replace"))
        elif path.suffix == ".css":
            found = css_outside_urls(path.read_text(encoding="utf-8", errors="replace"))
        else:
            continue
        if found:
            out[str(path.relative_to(root))] = found
    return out
