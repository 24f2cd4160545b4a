"""``/app``: the planner's workspace, one page over this API (no build step, no CDN).

The page (``static/app/``: HTML, CSS and plain JavaScript) and the vendored Leaflet of
:mod:`recyclenet.export` are served as files; the screen texts in English and Chinese
come from the library's one label table (``data/labels.csv``) as ``/app/labels.json``.
None of these need an API key: the page asks for it, keeps it in the browser tab's
``sessionStorage`` and sends it as the ``X-API-Key`` header on every API call (never in a
URL; downloads are fetched with the header and saved from memory).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from recyclenet.i18n import LANGS, labels

from ..problems import Problem

router = APIRouter(tags=["app"], include_in_schema=False)

APP_DIR = Path(__file__).resolve().parents[1] / "static" / "app"
LEAFLET_DIR = Path(str(resources.files("recyclenet") / "export" / "static" / "leaflet"))
_MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".png": "image/png"}  # fmt: skip
_NO_STORE = {"Cache-Control": "no-cache"}


def _file(folder: Path, name: str) -> FileResponse:
    path = (folder / name).resolve()
    if path.parent != folder.resolve() and folder.resolve() not in path.parents:
        raise Problem(404, f"no file {name!r}")
    if not path.is_file() or path.suffix not in _MEDIA:
        raise Problem(404, f"no file {name!r}")
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers=_NO_STORE)


@router.get("/app", response_class=FileResponse)
async def app_page() -> FileResponse:
    return _file(APP_DIR, "index.html")


@router.get("/app/", response_class=RedirectResponse)
async def app_slash() -> RedirectResponse:
    return RedirectResponse("/app")


@router.get("/app/labels.json")
async def app_labels() -> JSONResponse:
    return JSONResponse({lang: labels(lang) for lang in LANGS}, headers=_NO_STORE)


@router.get("/app/leaflet/{name:path}", response_class=FileResponse)
async def app_leaflet(name: str) -> FileResponse:
    return _file(LEAFLET_DIR, name)


@router.get("/app/{name}", response_class=FileResponse)
async def app_file(name: str) -> FileResponse:
    return _file(APP_DIR, name)
