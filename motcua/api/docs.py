"""`/docs` (Swagger UI) and `/redoc` with their scripts served by this process, never a CDN.

FastAPI's own pages load `swagger-ui-dist@5` and `redoc@2` from a CDN, unpinned and without an
integrity check: a third party's script running on the console's origin, next to its session
cookie (issue 24, point 12). The `fastapi-offline` package ships those files (pinned by its
version in pyproject.toml, upgraded deliberately); we serve them under `/docs/assets/` and
render the pages with FastAPI's own HTML helpers pointed there. Swagger UI's validator badge
(which calls validator.swagger.io with the spec's URL) is turned off, and ReDoc does not load
Google Fonts.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from motcua.api.headers import docs_headers, secured

ASSETS = "/docs/assets"
# The package's own files: swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, a favicon.
ASSET_DIR = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve `/docs`, `/docs/oauth2-redirect` and `/redoc` from packaged assets. The app must
    be built with `docs_url=None, redoc_url=None` (FastAPI's CDN pages off)."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None}))

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _secured(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png", with_google_fonts=False))


def _secured(page: HTMLResponse) -> HTMLResponse:
    """The page with the API's HTML security headers, its inline scripts allowed by hash
    (`motcua.api.headers`)."""
    return secured(page, docs_headers(bytes(page.body).decode("utf-8")))
