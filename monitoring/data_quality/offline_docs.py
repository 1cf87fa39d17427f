"""Data Docs that load nothing from outside: shipped assets instead of CDN links.

GX 1.24 renders every Data Docs page with 13 CSS/JS files from public CDNs (its templates
are not overridable: GX's own loader comes first). Offline or behind a firewall the pages
render unstyled and the validation list (drawn by jQuery + bootstrap-table) stays empty;
online, each view tells outside servers a report was opened. After each build,
`make_self_contained` copies the vendored files (vendor/README.md) into the site's
`static/vendor/` and rewrites each page: a known CDN file becomes a relative link to its
copy, any other outside script or stylesheet is dropped, outside links lose their href,
outside images and CSS `url()`s point at GX's own local copies or at nothing.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
STATIC_VENDOR = Path("static") / "vendor"

# CDN file (by the end of its URL, version-pinned by GX's templates) -> our copy
SHIPPED: dict[str, str] = {
    "jquery-3.7.1.min.js": "jquery-3.7.1.min.js",
    "popper.js/1.12.9/umd/popper.min.js": "popper-1.12.9.min.js",
    "bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1.min.js",
    "bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1.min.css",
    "dist/bootstrap-table.min.js": "bootstrap-table-1.19.1.min.js",
    "dist/bootstrap-table.min.css": "bootstrap-table-1.19.1.min.css",
    "filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-filter-control-1.19.1.min.js",
    "filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-filter-control-1.19.1.min.css",
    "filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-filter-control-1.19.1.min.css",
    "bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0.min.js",
    "bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0.min.css",
    "font-awesome/6.6.0/css/all.min.css": "icons.css",
}
# GX's logo on its web-assets bucket -> the copy GX itself writes into the site
LOCAL_IMAGES = {"logo-long.png": "static/images/logo-long.png"}

OUTSIDE = r"(?:https?:)?//"
_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"'](" + OUTSIDE + r"[^\"']*)[\"'][^>]*>"
                     r"\s*</script>", re.I)
_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"'](" + OUTSIDE + r"[^\"']*)[\"'][^>]*>", re.I)
_IMG_SRC = re.compile(r"(<img\b[^>]*\bsrc\s*=\s*)[\"'](" + OUTSIDE + r"[^\"']*)[\"']", re.I)
_HREF = re.compile(r"\s(?:href|src)\s*=\s*[\"']" + OUTSIDE + r"[^\"']*[\"']", re.I)
_CSS_URL = re.compile(r"url\(\s*[\"']?" + OUTSIDE + r"[^)\"']*[\"']?\s*\)", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?" + OUTSIDE + r"[^;]*;", re.I)


def _shipped(url: str) -> str | None:
    bare = url.split("?", 1)[0]
    return next((ours for end, ours in SHIPPED.items() if bare.endswith(end)), None)


def _rel(site: Path, page: Path, target: str | Path) -> str:
    return Path(os.path.relpath(site / target, page.parent)).as_posix()


def rewrite_css(text: str) -> str:
    """CSS with no outside `url()` or `@import` (a background image becomes none)."""
    return _CSS_IMPORT.sub("", _CSS_URL.sub("none", text))


def rewrite_page(text: str, site: Path, page: Path) -> str:
    """One Data Docs page with every outside reference made local or removed."""
    def script(m: re.Match) -> str:
        ours = _shipped(m.group(1))
        return (f'<script src="{_rel(site, page, STATIC_VENDOR / ours)}"></script>'
                if ours else "")

    def stylesheet(m: re.Match) -> str:
        ours = _shipped(m.group(1))
        return (f'<link rel="stylesheet" href="{_rel(site, page, STATIC_VENDOR / ours)}">'
                if ours else "")

    def image(m: re.Match) -> str:
        name = m.group(2).split("?", 1)[0].rsplit("/", 1)[-1]
        local = LOCAL_IMAGES.get(name)
        return f'{m.group(1)}"{_rel(site, page, local)}"' if local else f'{m.group(1)}""'

    text = _SCRIPT.sub(script, text)
    text = _LINK.sub(stylesheet, text)
    text = _IMG_SRC.sub(image, text)
    text = _HREF.sub("", text)  # outside links keep their text, lose their target
    return rewrite_css(text)


def make_self_contained(site: Path) -> int:
    """Ship the assets into `site/static/vendor` and rewrite its pages and stylesheets;
    returns the number of files rewritten."""
    site = Path(site)
    target = site / STATIC_VENDOR
    target.mkdir(parents=True, exist_ok=True)
    for asset in VENDOR_DIR.iterdir():
        if asset.is_file() and asset.suffix in {".js", ".css", ".txt"}:
            dest = target / asset.name
            if not dest.exists() or dest.stat().st_size != asset.stat().st_size:
                shutil.copyfile(asset, dest)
    changed = 0
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        if STATIC_VENDOR.as_posix() in path.relative_to(site).as_posix():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        new = rewrite_page(text, site, path) if path.suffix == ".html" else rewrite_css(text)
        if new != text:
            path.write_text(new, encoding="utf-8", errors="surrogateescape")
            changed += 1
    return changed
