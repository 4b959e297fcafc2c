"""The web UI: the built single-page app in CALLOUT_UI_DIR, served at `/` after every API route.

A path that names a file in the folder answers that file; any other GET answers index.html,
whose own router reads the path (`/apis/3`). Paths the server owns (`/api`, `/docs`, ...)
never reach the app, so an unknown one there still answers the API's 404; neither does a
POST, so `POST .../invoke` and every write stay the API's. A missing file under `/assets/`
is a 404 rather than index.html: a page asking for a script or a stylesheet must not be
handed HTML, least of all under a year-long cache header.

Files are read by Starlette's StaticFiles, which refuses a path that leads outside the folder,
through `..` or a symlink. FastAPI's own `app.frontend()` is not used: it would answer
index.html to a browser's GET of an unknown `/api/...` path, and it sets no headers.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

INDEX = "index.html"
# Vite names each file there after a hash of its content: a new build brings new names.
ASSETS = "/assets/"
RESERVED = ("/api", "/docs", "/redoc", "/openapi.json", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
# Every UI answer: the type is what the server says, and no address leaks to another site.
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# The app's HTML: its scripts and styles come from this server, it calls only this server
# (the key is sent nowhere else) and no other site may frame it. Inline styles are allowed
# for the component library's positioning (menus, dialogs); inline scripts are not.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
}


def built(folder: Path) -> bool:
    """Whether `folder` holds a built app: its index.html."""
    return (folder / INDEX).is_file()


def install(app: FastAPI, folder: Path) -> None:
    """Serve the app in `folder`; call it after every other route is added."""
    app.router.routes.append(_Route(folder))


def _reserved(path: str) -> bool:
    return any(path == owned or path.startswith(owned + "/") for owned in RESERVED)


def _client_route(path: str) -> bool:
    """A path the app's own router may read: not an asset, not a way out of the folder."""
    return not path.startswith(ASSETS) and ".." not in path.split("/")


class _Files(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        served = path
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or not _client_route(scope["path"]):
                raise
            served = INDEX
            response = await super().get_response(INDEX, scope)
        if scope["path"].startswith(ASSETS):
            response.headers["Cache-Control"] = IMMUTABLE
        else:  # index.html names the current assets: always asked again (an ETag answers 304)
            response.headers["Cache-Control"] = "no-cache"
        response.headers.update(HEADERS)
        if served.endswith(".html"):
            response.headers.update(HTML_HEADERS)
        return response


class _Route(BaseRoute):
    """Matches a GET or HEAD of any path the server does not own; no path pattern, so
    nothing that lists a path's methods (the API's 405 and its Allow) counts this route."""

    def __init__(self, folder: Path) -> None:
        self.files = _Files(directory=folder)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not _reserved(scope["path"])
        ):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.files(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)
