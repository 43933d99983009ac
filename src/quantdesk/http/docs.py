"""The interactive docs, served offline: `/docs` (Swagger UI) and `/redoc` (ReDoc).

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a machine without internet
access, or under a Content-Security-Policy that allows only this origin, they are blank.
Here the assets come from an installed dependency (the `fastapi-offline` wheel ships
`swagger-ui-bundle.js`, `swagger-ui.css` and `redoc.standalone.js`), mounted read-only at
`/docs/static/`; nothing is copied into this repository. The pages carry no inline script:
Swagger UI's settings are a small script of their own (`/docs/swagger-init.js`), so the docs
CSP (quantdesk.http.headers) allows scripts from 'self' only.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
STATIC_URL = "/docs/static"
SWAGGER_INIT_URL = "/docs/swagger-init.js"


def assets_directory() -> Path:
    """Where the installed wheel keeps the Swagger UI and ReDoc assets."""
    return Path(str(files("fastapi_offline").joinpath("static")))


def _swagger_page(root: str, title: str) -> str:
    static = f"{root}{STATIC_URL}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
<link rel="stylesheet" type="text/css" href="{static}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{root}{SWAGGER_INIT_URL}"></script>
</body>
</html>
"""


def _redoc_page(root: str, title: str, openapi_url: str) -> str:
    static = f"{root}{STATIC_URL}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - ReDoc</title>
<link rel="icon" type="image/png" href="{static}/favicon.png">
</head>
<body>
<redoc spec-url="{root}{openapi_url}"></redoc>
<script src="{static}/redoc.standalone.js"></script>
</body>
</html>
"""


def _swagger_init(root: str, openapi_url: str) -> str:
    settings = {
        "url": f"{root}{openapi_url}",
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        # Swagger UI would otherwise send the document to an online validator for a badge.
        "validatorUrl": None,
    }
    return (
        f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(settings)}, {{\n"
        "  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]\n"
        "}));\n"
    )


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Add `/docs`, `/redoc` and their assets to `app` (created with FastAPI's own docs off)."""
    title = app.title

    async def swagger(request: Request) -> Response:
        return HTMLResponse(_swagger_page(request.scope.get("root_path", ""), title))

    async def swagger_init(request: Request) -> Response:
        script = _swagger_init(request.scope.get("root_path", ""), openapi_url)
        return Response(script, media_type="text/javascript")

    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return HTMLResponse(_redoc_page(root, title, openapi_url))

    app.router.add_route(DOCS_URL, swagger, methods=["GET"], include_in_schema=False)
    app.router.add_route(SWAGGER_INIT_URL, swagger_init, methods=["GET"], include_in_schema=False)
    app.router.add_route(REDOC_URL, redoc, methods=["GET"], include_in_schema=False)
    app.mount(STATIC_URL, StaticFiles(directory=assets_directory()), name="docs-static")
