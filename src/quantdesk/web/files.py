"""The dashboard's static files as HTTP answers: content type, ETag, gzip, read once.

A file is read and hashed the first time it is asked for, and again only when its size or
modification time changes (editing a file during development shows at the next reload). Text
files over 1 KiB are also kept gzipped for clients that accept it (the app has no gzip
middleware: API answers are small, and these are not).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE, NOTICE
}
COMPRESSIBLE = frozenset({".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ""})
GZIP_MIN_BYTES = 1024


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None  # None: not worth compressing
    etag: str  # weak (W/"..."): the same for the plain and the gzipped body
    media_type: str
    stamp: tuple[int, int]  # (size, mtime_ns) it was read at


class FileCache:
    """Files of one static folder by resolved path; thread-safe (the server may use threads)."""

    def __init__(self) -> None:
        self._files: dict[Path, StaticFile] = {}
        self._lock = threading.Lock()

    def get(self, path: Path) -> StaticFile:
        """The file at `path` (an existing regular file), from memory when unchanged."""
        info = path.stat()
        stamp = (info.st_size, info.st_mtime_ns)
        cached = self._files.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        body = path.read_bytes()
        suffix = path.suffix.lower()
        compress = suffix in COMPRESSIBLE and len(body) >= GZIP_MIN_BYTES
        loaded = StaticFile(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0) if compress else None,
            etag='W/"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            media_type=content_type(path),
            stamp=stamp,
        )
        with self._lock:
            self._files[path] = loaded
        return loaded


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against an If-None-Match list (or `*`)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            quality = params.strip().removeprefix("q=").strip() if params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return True
    return False
