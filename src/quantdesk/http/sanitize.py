"""Pydantic types for user text shown in a page (`SafeText`) and for links (`WebUrl`).

Stripping tags on input is a second line of defence: pages must still escape on output.
"""

from __future__ import annotations

import html
import re
from typing import Annotated

import nh3
from pydantic import AfterValidator, BeforeValidator, HttpUrl

# No tags or attributes survive; <script>/<style> lose their content too (nh3's default).
_STRIP_ALL = nh3.Cleaner(tags=set(), attributes={}, strip_comments=True)
_MAX_PASSES = 4
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# Browsers drop these anywhere in a URL, so `java\tscript:` is `javascript:`.
_URL_IGNORED = str.maketrans("", "", "\t\n\r")
# ...and strip C0 controls and spaces around it.
_URL_TRIMMED = "".join(map(chr, range(0x21)))
WEB_SCHEMES = frozenset({"http", "https"})


def sanitize_text(value: str) -> str:
    """Plain text with every HTML tag removed, entities decoded (`AT&amp;T` -> `AT&T`).

    Decoding could turn `&lt;script&gt;` into a tag again, so clean and decode repeat until
    nothing changes. Text nested in more entity layers than that is returned still escaped,
    which is inert. Note that `x<y` loses `<y` (it parses as a tag); `x < y` is kept.
    """
    text = value
    for _ in range(_MAX_PASSES):
        cleaned = html.unescape(_STRIP_ALL.clean(text))
        if cleaned == text:
            return cleaned
        text = cleaned
    return _STRIP_ALL.clean(text)


def _require_web_scheme(value: object) -> object:
    if not isinstance(value, str):
        return value  # an HttpUrl instance, or a type error HttpUrl will report
    found = _SCHEME.match(value.translate(_URL_IGNORED).strip(_URL_TRIMMED))
    if found is None:
        raise ValueError("must be an absolute URL starting with http:// or https://")
    scheme = found.group(1).lower()
    if scheme not in WEB_SCHEMES:
        raise ValueError(f"only http:// and https:// URLs are allowed, not {scheme}:")
    return value


def _forbid_credentials(url: HttpUrl) -> HttpUrl:
    # https://bank.example@evil.example/ reads like a bank link.
    if url.username is not None or url.password is not None:
        raise ValueError("URLs must not contain a user name or password")
    return url


SafeText = Annotated[str, AfterValidator(sanitize_text)]
WebUrl = Annotated[
    HttpUrl, BeforeValidator(_require_web_scheme), AfterValidator(_forbid_credentials)
]
