"""Report rendering: one Jinja template per text format (templates/), PDF drawn by fpdf2
from the HTML template's PDF variant (no system libraries needed).

Numbers are formatted by two filters: `num` (thousands separators; billions as "50.18 bn"
would lose digits the guard compares, so money is written in full) and `pct`.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"


MEDIA_TYPES = {
    ReportFormat.MD: "text/markdown; charset=utf-8",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}


def num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def pct(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{num(value, digits)}%"


_ENV = Environment(
    loader=PackageLoader("quantdesk.research", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=True,
)
_ENV.filters["num"] = num
_ENV.filters["pct"] = pct


def render_text(fmt: ReportFormat, context: dict[str, Any], narrative: Any = None) -> str:
    name = "report.md.j2" if fmt is ReportFormat.MD else "report.html.j2"
    return _ENV.get_template(name).render(c=context, narrative=narrative, pdf=False)


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: other characters are replaced, never an error."""
    return (
        text.replace("\u2014", "-")
        .replace("\u00b7", "-")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def render_pdf(context: dict[str, Any], narrative: Any = None) -> bytes:
    html = _ENV.get_template("report.html.j2").render(c=context, narrative=narrative, pdf=True)
    body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    pdf = FPDF(format="A4")
    pdf.set_title(f"{context['symbol']} research report")
    pdf.set_creator("quantdesk")
    pdf.set_creation_date(datetime.fromisoformat(str(context["generated_at"])))
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.write_html(_latin1(body))
    return bytes(pdf.output())


def render(fmt: ReportFormat, context: dict[str, Any], narrative: Any = None) -> bytes:
    if fmt is ReportFormat.PDF:
        return render_pdf(context, narrative)
    return render_text(fmt, context, narrative).encode("utf-8")
