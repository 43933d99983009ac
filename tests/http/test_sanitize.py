"""SafeText keeps the words and drops the markup; WebUrl only links to http(s) pages."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from quantdesk.http.sanitize import SafeText, WebUrl, sanitize_text


class Note(BaseModel):
    text: SafeText


class Link(BaseModel):
    url: WebUrl


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<script>alert(1)</script>Buy AAPL", "Buy AAPL"),
        ("<b>bold</b> <img src=x onerror=alert(1)>move", "bold move"),
        ('<a href="javascript:alert(1)">chart</a>', "chart"),
        ("<style>body{}</style>ok<!-- hidden -->", "ok"),
        ("AT&T up 3% & rising, 2 < 3 > 1", "AT&T up 3% & rising, 2 < 3 > 1"),
        ('O\'Neil said "hold"', 'O\'Neil said "hold"'),
        ("&lt;script&gt;alert(1)&lt;/script&gt;gap", "gap"),  # entities do not smuggle tags
        ("plain text", "plain text"),
    ],
)
def test_sanitize_text(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean


def test_deeply_escaped_markup_stays_escaped() -> None:
    raw = "&amp;amp;amp;amp;lt;script&amp;amp;amp;amp;gt;x"
    assert "<script" not in sanitize_text(raw)


def test_safe_text_field_strips_script() -> None:
    assert Note(text="hi <script>steal()</script>there").text == "hi there"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/report?id=1",
        "http://localhost:8000/docs",
        "HTTPS://Example.com",
    ],
)
def test_web_url_accepts_http_and_https(url: str) -> None:
    assert Link(url=url).url.scheme in {"http", "https"}


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("javascript:alert(1)", "javascript"),
        ("JavaScript:alert(1)", "javascript"),
        (" \x01java\tscript:alert(1)", "javascript"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data"),
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/x", "ftp"),
        ("vbscript:msgbox", "vbscript"),
    ],
)
def test_web_url_rejects_other_schemes_by_name(url: str, scheme: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Link(url=url)
    message = caught.value.errors()[0]["msg"]
    assert message == f"Value error, only http:// and https:// URLs are allowed, not {scheme}:"


@pytest.mark.parametrize("url", ["example.com/path", "//example.com", "/relative"])
def test_web_url_must_be_absolute(url: str) -> None:
    with pytest.raises(ValidationError, match="absolute URL"):
        Link(url=url)


def test_web_url_rejects_credentials() -> None:
    with pytest.raises(ValidationError, match="user name or password"):
        Link(url="https://bank.example@evil.example/login")


def test_web_url_rejects_a_non_string() -> None:
    with pytest.raises(ValidationError):
        Link.model_validate({"url": 42})
