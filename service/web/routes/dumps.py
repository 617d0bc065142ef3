"""``/dumps/``: the manifest of the full dumps and the files themselves, each with a
content-derived ETag; the dumps are built by ``service.harvest.dumps``."""

from __future__ import annotations

import base64
from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import FileResponse, JSONResponse

from service.harvest.dumps import BY_NAME, DUMP_MAX_AGE, Manifest, download_url
from service.web import etags
from service.web.deps import ServicesDep
from service.web.errors import NotFound
from service.web.pages import manifest_of
from service.web.routing import Router

router = Router(tags=["dumps"])


def _validators(manifest: Manifest, *selectors: str) -> tuple[str, datetime]:
    etag = etags.entity_tag(manifest.canonical_hash, manifest.version or "", *selectors)
    return etag, manifest.built


@router.get("/dumps", include_in_schema=False)
@router.get("/dumps/")
async def dumps_index(request: Request, services: ServicesDep) -> Response:
    """The manifest: every dump with size, media type and SHA-256, and the canonical hash."""
    manifest = await manifest_of(request, services)
    etag, modified = _validators(manifest, "manifest")
    headers = {
        "ETag": etag,
        "Last-Modified": etags.http_date(modified),
        "Cache-Control": f"public, max-age={DUMP_MAX_AGE}",
    }
    if etags.not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    body = manifest.as_json()
    body.pop("directory")
    for entry in body["files"]:
        entry["url"] = download_url(str(request.base_url), entry["name"])
    return JSONResponse(body, headers=headers)


@router.get("/dumps/{name}")
async def dump_file(name: str, request: Request, services: ServicesDep) -> Response:
    """One dump file, with a content-derived ETag (its SHA-256) and 304 on a match."""
    dump = BY_NAME.get(name)
    if dump is None:
        raise NotFound(f"There is no dump named {name!r}; see /dumps/ for the list.")
    manifest = await manifest_of(request, services)
    entry = manifest.file(name)
    assert entry is not None
    etag = f'"{entry.sha256}"'
    headers = {
        "ETag": etag,
        "Last-Modified": etags.http_date(manifest.built),
        "Cache-Control": f"public, max-age={DUMP_MAX_AGE}",
        "Digest": "sha-256=" + _b64(entry.sha256),
    }
    if etags.not_modified(request, etag, manifest.built):
        return Response(status_code=304, headers=headers)
    path = services.settings.dumps_path / manifest.directory / name
    return FileResponse(path, media_type=dump.served_as, headers=headers, filename=name)


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
