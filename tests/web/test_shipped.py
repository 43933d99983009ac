"""The dashboard as shipped in src/quantdesk/web/static: no inline script or handler (the CSP
would block them), every script, stylesheet and module import resolves to a file, and all the
JavaScript together (own + vendored) stays within 150 KB gzipped."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from quantdesk.http.headers import APP_CSP, APP_STYLE_HASHES
from quantdesk.web.routes import STATIC_DIR
from quantdesk.web.vendor import load_lock
from tests.support.web_assets import VENDOR, require_vendor, vendor_fetched

INDEX = STATIC_DIR / "index.html"
JS_BUDGET_GZIPPED = 150 * 1024
IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s[^;'"`]*?\bfrom\s*["']([^"']+)["']"""  # import x from "y"
    r"""|\bimport\s*["']([^"']+)["']"""  # import "y"
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)"""  # import("y")
)

needs_index = pytest.mark.skipif(not INDEX.is_file(), reason="no static/index.html yet")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.inline_styles: list[str] = []
        self.style_elements = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in found if name.lower().startswith("on")]
        if "style" in found:
            self.inline_styles.append(tag)
        if tag == "script":
            self.scripts.append(found)
        elif tag == "link":
            self.links.append(found)
        elif tag == "style":
            self.style_elements += 1


def _page() -> _Page:
    page = _Page()
    page.feed(INDEX.read_text())
    return page


def _local(url: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:|^//", url, re.IGNORECASE)


def _own_js() -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob("*.js") if VENDOR not in p.parents) + sorted(
        p for p in STATIC_DIR.rglob("*.mjs") if VENDOR not in p.parents
    )


@needs_index
def test_index_has_no_inline_script_handler_or_style() -> None:
    page = _page()
    assert page.scripts, "index.html loads no script"
    assert all(script.get("src") for script in page.scripts), "an inline <script>"
    assert page.handlers == []
    assert page.inline_styles == [] and page.style_elements == 0  # style-src 'self'
    text = INDEX.read_text().lower()
    assert "javascript:" not in text and "<base" not in text  # base-uri 'none'


@needs_index
def test_every_script_and_stylesheet_of_the_page_is_a_file() -> None:
    page = _page()
    wanted = [s.get("src") for s in page.scripts] + [
        link.get("href")
        for link in page.links
        if link.get("rel") in {"stylesheet", "icon", "manifest"}
    ]
    urls = [url for url in wanted if url]
    assert all(_local(url) for url in urls), f"a URL off this origin (no CDN): {urls}"
    own = [url for url in urls if not url.startswith("vendor/")]
    assert [url for url in own if not (STATIC_DIR / url).is_file()] == []
    vendored = [url for url in urls if url.startswith("vendor/")]
    if vendored:
        require_vendor()
        assert [url for url in vendored if not (STATIC_DIR / url).is_file()] == []


@needs_index
def test_every_module_import_resolves_to_a_file() -> None:
    broken, vendored = [], []
    for path in _own_js():
        for match in IMPORT.finditer(path.read_text()):
            spec = next(group for group in match.groups() if group)
            if not spec.startswith(("./", "../")):
                broken.append(f"{path.relative_to(STATIC_DIR)}: bare or absolute import {spec}")
                continue
            target = (path.parent / spec).resolve()
            if VENDOR in target.parents:
                vendored.append(target)
            elif not target.is_file():
                broken.append(f"{path.relative_to(STATIC_DIR)}: {spec} is no file")
    assert broken == []
    if vendored:
        require_vendor()
        assert [t for t in vendored if not t.is_file()] == []


def test_the_parser_finds_every_import_form(tmp_path: Path) -> None:
    source = (
        'import { a,\n  b } from "./a.js";\nimport "./b.js";\nexport { c } from \'../c.js\';\n'
        "const page = await import('./pages/d.js');\n// import nothing\n"
    )
    found = [next(g for g in m.groups() if g) for m in IMPORT.finditer(source)]
    assert found == ["./a.js", "./b.js", "../c.js", "./pages/d.js"]


def test_all_javascript_fits_in_150_kb_gzipped() -> None:
    """Each file as the server sends it (gzip level 9), own and vendored, added up."""
    own = {p: len(gzip.compress(p.read_bytes(), 9)) for p in _own_js()}
    lock = load_lock()
    scripts = [
        VENDOR / f.target
        for p in lock.packages
        for f in p.files
        if f.target.endswith((".js", ".mjs"))
    ]
    if not vendor_fetched():
        require_vendor()
    vendored = sum(len(gzip.compress(p.read_bytes(), 9)) for p in scripts)
    total = sum(own.values()) + vendored
    largest = sorted(own.items(), key=lambda item: -item[1])[:5]
    assert total <= JS_BUDGET_GZIPPED, (
        f"{total:,} bytes gzipped: own {sum(own.values()):,} in {len(own)} files, vendor "
        f"{vendored:,}; largest own: "
        + ", ".join(f"{p.relative_to(STATIC_DIR)} {size:,}" for p, size in largest)
    )


def test_the_csp_allows_exactly_the_charting_librarys_style_element() -> None:
    """lightweight-charts adds one <style> (its attribution logo); APP_CSP names its hash."""
    require_vendor()
    source = (VENDOR / "lightweight-charts.mjs").read_text()
    styles = re.findall(r'createElement\("style"\),this\.\w+\.innerText="([^"]*)"', source)
    assert len(styles) == 1, "the library's inline styles changed: re-check APP_CSP in a browser"
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert (f"'sha256-{digest}'",) == APP_STYLE_HASHES
    assert f"style-src 'self' 'sha256-{digest}';" in APP_CSP
