"""`/app`: the dashboard, served by the API itself from `static/` (see docs/dashboard.md).

* `GET /app` redirects (307) to `/app/`, which serves `index.html` (its relative URLs need the
  slash). `GET /app/{path}` serves the file at `static/{path}`; a path whose last segment has no
  dot and names no file is a client-side route, answered with `index.html`; any other unknown
  path is a 404 problem. Paths leaving `static/` (`..`, encoded or not), hidden files and
  directories are never served, and there is no directory listing.
* `index.html` and the project's own JS/CSS: `Cache-Control: no-cache` with an ETag, so a
  reload costs a 304 per file. `vendor/*` (pinned versions): cached for a year, immutable.
* The Content-Security-Policy and the other security headers are the edge's
  (quantdesk.http.headers.APP_CSP). The routes are public and not in the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from quantdesk.auth.dependencies import OPEN
from quantdesk.errors import NotFound
from quantdesk.kit.routing import include_flat
from quantdesk.observability.logging import get_logger
from quantdesk.web.files import FileCache, StaticFile, accepts_gzip, etag_matches
from quantdesk.web.vendor import FETCH_HINT, load_lock

log = get_logger("quantdesk.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
APP_URL = "/app"
INDEX = "index.html"
VENDOR = "vendor"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def missing_vendor_files(static_dir: Path) -> list[str]:
    """The locked vendor files absent from `static_dir/vendor` (existence only)."""
    lock = load_lock()
    vendor_dir = static_dir / VENDOR
    return [
        f"{VENDOR}/{item.target}"
        for package in lock.packages
        for item in package.files
        if not (vendor_dir / item.target).is_file()
    ]


def _resolve(root: Path, relative: str) -> Path | None:
    """The regular file `relative` names inside `root`, or None (absent, hidden, outside)."""
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    parts = relative.split("/")
    if any(part.startswith(".") for part in parts if part):  # hidden files, `..`
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _plain(path: str) -> bool:
    """Segments only, none empty, hidden, `.` or `..`; no backslash (a route the app may own)."""
    parts = path.removesuffix("/").split("/")
    return "\\" not in path and all(part and not part.startswith(".") for part in parts)


def _answer(request: Request, file: StaticFile, cache_control: str) -> Response:
    headers = {"ETag": file.etag, "Cache-Control": cache_control}
    if file.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if etag_matches(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=304, headers=headers)
    body = file.body
    if file.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding")):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=file.media_type, headers=headers)


def web_routes(static_dir: Path) -> APIRouter:
    """The `/app` routes over `static_dir` (injectable, so tests can serve a folder of theirs)."""
    root = static_dir.resolve()
    files = FileCache()
    # Open like the health probes: static files need no sign-in and count against no limit.
    router = APIRouter(include_in_schema=False, dependencies=[OPEN])

    def index(request: Request) -> Response:
        page = _resolve(root, INDEX)
        if page is None:
            raise NotFound(f"the dashboard is not installed: no {INDEX} in its static folder")
        return _answer(request, files.get(page), REVALIDATE)

    @router.api_route(APP_URL, methods=["GET", "HEAD"])
    async def app_root(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}{APP_URL}/", 307)

    @router.api_route(APP_URL + "/", methods=["GET", "HEAD"])
    async def app_index(request: Request) -> Response:
        return index(request)

    @router.api_route(APP_URL + "/{path:path}", methods=["GET", "HEAD"])
    async def app_file(request: Request, path: str) -> Response:
        found = _resolve(root, path)
        if found is not None:
            vendored = path.startswith(VENDOR + "/")
            return _answer(request, files.get(found), IMMUTABLE if vendored else REVALIDATE)
        if path.startswith(VENDOR + "/") and _plain(path):
            raise NotFound(
                f"{path} is not here: the dashboard's libraries are fetched, {FETCH_HINT}"
            )
        if _plain(path) and "." not in path.rstrip("/").rsplit("/", 1)[-1]:
            return index(request)  # a client-side route: the app reads the URL
        raise NotFound(f"no file {path} in the dashboard")

    return router


def install_web(app: FastAPI, static_dir: Path | None = None) -> None:
    """Serve the dashboard at `/app`; warn once when its vendored libraries are not fetched."""
    static_dir = static_dir or STATIC_DIR
    missing = missing_vendor_files(static_dir)
    if missing:
        log.warning(
            "dashboard libraries missing: /app will not work until they are fetched",
            missing=len(missing),
            hint=FETCH_HINT,
        )
    include_flat(app.router, web_routes(static_dir))
