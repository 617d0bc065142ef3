"""``/contributions``: submit Turtle (N-Triples, JSON-LD), see it validated, published with its
provenance — or refused with a report a person can act on (issue 6).

- ``POST /contributions`` (bearer token; ``?dry-run=true`` needs none) and
  ``POST /contributions/validate`` (no token): 201 + ``Location``, 400 (syntax, with line and
  column), 413, 415, 422 (violations; JSON report, or the ``sh:ValidationReport`` as Turtle or
  JSON-LD by ``Accept``). Warnings never block.
- ``GET /contributions`` (paged), ``GET /contributions/{id}`` (JSON: metadata, the submitted
  graph as Turtle, the report; RDF by ``Accept``: the submitted graph).
- ``PUT`` replaces, ``DELETE`` retracts: the contributor (same token name) or a curator.
- Review mode: ``POST /contributions/{id}/accept`` or ``/reject`` (curators).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from service.config import Settings
from service.contrib.intake import FORMATS, PAGE_SIZE, Checked, Intake, now
from service.contrib.records import CC_BY, LICENCES
from service.contrib.tokens import Token
from service.rdf.conneg import GRAPH_FORMATS, Format, negotiate, negotiate_language
from service.rdf.parsing import RdfSyntaxError
from service.rdf.writing import write_rdf
from service.vocab import PREFIXES
from service.web.auth import Authenticator
from service.web.deps import AuthDep, IntakeDep, SettingsDep
from service.web.errors import (
    PROBLEM_JSON,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from service.web.forms import form_fields
from service.web.pages import jsonld_context
from service.web.routing import Router

log = logging.getLogger("meent")
router = Router(tags=["contributions"])
ID = re.compile(r"^[0-9]{8}-[0-9a-f]{12}$")
#: Pages of the list of contributions a client may ask for (of PAGE_SIZE each).
MAX_PAGES = 100_000
JSON_FORMAT = Format("application/json", ("json",), "json")
PROBLEM_FORMAT = Format(PROBLEM_JSON, ("problem",), "json")
REPORT_FORMATS = (PROBLEM_FORMAT, JSON_FORMAT, GRAPH_FORMATS[0], GRAPH_FORMATS[2])


async def _body(request: Request, settings: Settings) -> tuple[bytes, str]:
    """The submitted RDF and its media type; 413 past the limit, 415 for other types."""
    limit = settings.max_contribution_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"A contribution may be at most {limit} bytes.", limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"A contribution may be at most {limit} bytes.", limit=limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "multipart/form-data":
        return _from_form(raw, content_type)
    if media_type not in FORMATS:
        raise UnsupportedMediaType(
            "Send the contribution as " + ", ".join(FORMATS) + " or as a multipart form upload.",
            supported=[*FORMATS, "multipart/form-data"],
        )
    return raw, media_type


def _from_form(raw: bytes, content_type: str) -> tuple[bytes, str]:
    """The ``file`` (or pasted ``text``) of a multipart form."""
    fields = {k: v[:2] for k, v in form_fields(raw, content_type).items()}
    for name in ("file", "text"):
        payload, part_type = fields.get(name, (b"", ""))
        if payload.strip():
            filename_type = "text/turtle" if part_type not in FORMATS else part_type
            return payload, filename_type
    raise BadRequest("The form has neither a file nor pasted text.")


def _lang(request: Request) -> str:
    return negotiate_language(request.headers.get("accept-language"))


def _report(checked: Checked, lang: str) -> dict[str, Any]:
    return {
        "conforms": checked.conforms,
        "triples": len(checked.data),
        "sha256": checked.sha256,
        "violations": len(checked.report.violations),
        "warnings": len(checked.report.warnings),
        "results": [
            {k: v for k, v in item.as_dict(lang).items() if k != "file"} for item in checked.located
        ],
    }


def _refusal(request: Request, checked: Checked) -> Response:
    """422 with the report: JSON for people and scripts, the sh:ValidationReport as RDF."""
    fmt = negotiate(request.headers.get("accept"), REPORT_FORMATS) or PROBLEM_FORMAT
    if fmt.rdf is not None:
        body = checked.report.graph.serialize(
            format="json-ld" if fmt.rdf == ox.RdfFormat.JSON_LD else "turtle"
        )
        return Response(body, status_code=422, media_type=fmt.content_type)
    detail = (
        f"The contribution does not conform: {len(checked.report.violations)} violation(s). "
        "Each result says where (line), what (path, value) and what to do (message)."
    )
    body = {
        "type": "about:blank",
        "title": "Unprocessable contribution",
        "status": 422,
        "detail": detail,
        **_report(checked, _lang(request)),
    }
    return JSONResponse(body, status_code=422, media_type=fmt.media_type)


async def _check(
    request: Request, intake: Intake, body: bytes, media_type: str, graph: str | None = None
) -> Checked:
    try:
        return await intake.check(body, media_type, exclude_graph=graph)
    except RdfSyntaxError as error:
        raise BadRequest(
            f"The contribution is not valid {media_type}: {error.message}",
            line=error.line,
            column=error.column,
        ) from None


def _licence(licence: str | None) -> str:
    if licence is None:
        return CC_BY
    if licence not in LICENCES:
        raise BadRequest("Contributions are published under " + " or ".join(LICENCES) + ".")
    return licence


@router.post("/contributions/validate")
async def validate_contribution(
    request: Request, intake: IntakeDep, settings: SettingsDep
) -> Response:
    """Validate without storing; no token needed."""
    body, media_type = await _body(request, settings)
    async with intake.write_lock:
        checked = await _check(request, intake, body, media_type)
    if not checked.conforms:
        return _refusal(request, checked)
    return JSONResponse(_report(checked, _lang(request)))


@router.post("/contributions")
async def submit(
    request: Request,
    intake: IntakeDep,
    auth: AuthDep,
    settings: SettingsDep,
    dry_run: Annotated[bool, Query(alias="dry-run")] = False,
    licence: Annotated[str | None, Query(alias="license")] = None,
) -> Response:
    if dry_run:
        return await validate_contribution(request, intake, settings)
    token = auth.bearer(request)
    assert token is not None
    chosen = _licence(licence)
    body, media_type = await _body(request, settings)
    async with intake.write_lock:
        checked = await _check(request, intake, body, media_type)
        if not checked.conforms:
            return _refusal(request, checked)
        contribution_id = await intake.submit(checked, token, chosen)
    location = f"/contributions/{contribution_id}"
    answer = {
        "id": contribution_id,
        "status": "pending" if settings.review_mode else "published",
        "location": location,
        "graph": intake.names(contribution_id).graph,
        **_report(checked, _lang(request)),
    }
    return JSONResponse(answer, status_code=201, headers={"Location": location})


@router.get("/contributions")
async def list_contributions(
    request: Request,
    intake: IntakeDep,
    auth: AuthDep,
    # Bounded: the offset goes into a SPARQL OFFSET, which refuses numbers past 64 bits.
    page: Annotated[int, Query(ge=1, le=MAX_PAGES)] = 1,
) -> JSONResponse:
    """Published and retracted contributions, newest first; with a token, also the pending
    ones its holder may see (a curator: all)."""
    rows = await intake.records(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    body: dict[str, Any] = {
        "page": page,
        "items": rows[:PAGE_SIZE],
        "next": f"/contributions?page={page + 1}" if len(rows) > PAGE_SIZE else None,
    }
    token = auth.bearer(request, required=False)
    if token is not None:
        waiting = intake.pending.waiting(None if token.is_curator else token.name)
        body["pending"] = [_pending_summary(p) for p in waiting]
    return JSONResponse(body)


def _pending_summary(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "contributor": item.contributor,
        "created": item.created,
        "sha256": item.sha256,
        "status": item.status,
    }


def _known_id(contribution_id: str) -> str:
    if not ID.match(contribution_id):
        raise NotFound(f"There is no contribution {contribution_id!r}.")
    return contribution_id


async def _existing(intake: Intake, contribution_id: str) -> dict[str, Any]:
    found = await intake.record(_known_id(contribution_id))
    if found is None:
        raise NotFound(f"There is no published contribution {contribution_id!r}.")
    return found


def _may_change(token: Token, contributor: str) -> None:
    if not token.is_curator and token.name != contributor:
        raise Forbidden("Only its contributor or a curator may change this contribution.")


@router.get("/contributions/{contribution_id}")
async def get_contribution(
    request: Request, contribution_id: str, intake: IntakeDep, auth: AuthDep
) -> Response:
    _known_id(contribution_id)
    pending = intake.pending.get(contribution_id)
    if pending is not None and pending.status != "accepted":
        token = auth.bearer(request)
        assert token is not None
        _may_change(token, pending.contributor)
        return JSONResponse({**_pending_summary(pending), "data": pending.body.decode()})
    found = await _existing(intake, contribution_id)
    triples = await intake.data(contribution_id)
    offered = (JSON_FORMAT, *GRAPH_FORMATS[:3])
    fmt = negotiate(request.headers.get("accept"), offered) or JSON_FORMAT
    if fmt.rdf is not None:
        jsonld = await jsonld_context(request, intake.store)
        body = write_rdf(triples, fmt, prefixes=PREFIXES, context=jsonld)
        return Response(body, media_type=fmt.content_type)
    found["data"] = ox.serialize(triples, format=ox.RdfFormat.TURTLE).decode()
    return JSONResponse(found)


@router.put("/contributions/{contribution_id}")
async def replace_contribution(
    request: Request, contribution_id: str, intake: IntakeDep, auth: AuthDep, settings: SettingsDep
) -> Response:
    token = auth.bearer(request)
    assert token is not None
    _known_id(contribution_id)
    body, media_type = await _body(request, settings)
    pending = intake.pending.get(contribution_id)
    async with intake.write_lock:
        if pending is not None and pending.status == "pending":
            _may_change(token, pending.contributor)
            checked = await _check(request, intake, body, media_type)
            if not checked.conforms:
                return _refusal(request, checked)
            intake.pending.replace(
                type(pending)(
                    **{
                        **pending.__dict__,
                        "body": body,
                        "media_type": media_type,
                        "sha256": checked.sha256,
                    }
                )
            )
            return JSONResponse({"id": contribution_id, "status": "pending"})
        previous = await _existing(intake, contribution_id)
        _may_change(token, previous["contributor"])
        if previous["retracted"]:
            raise Conflict("This contribution was retracted; submit a new one instead.")
        graph = intake.names(contribution_id).graph
        checked = await _check(request, intake, body, media_type, graph)
        if not checked.conforms:
            return _refusal(request, checked)
        await intake.replace(contribution_id, checked, previous)
    return JSONResponse(
        {"id": contribution_id, "status": "published", **_report(checked, _lang(request))}
    )


@router.delete("/contributions/{contribution_id}")
async def retract_contribution(
    request: Request, contribution_id: str, intake: IntakeDep, auth: AuthDep
) -> Response:
    token = auth.bearer(request)
    assert token is not None
    _known_id(contribution_id)
    async with intake.write_lock:
        pending = intake.pending.get(contribution_id)
        if pending is not None and pending.status == "pending":
            _may_change(token, pending.contributor)
            intake.pending.decide(contribution_id, "withdrawn", token.name, now())
            return JSONResponse({"id": contribution_id, "status": "withdrawn"})
        previous = await _existing(intake, contribution_id)
        _may_change(token, previous["contributor"])
        if not previous["retracted"]:
            await intake.retract(contribution_id, token)
    return JSONResponse({"id": contribution_id, "status": "retracted"})


async def _decide(
    request: Request, contribution_id: str, intake: Intake, auth: Authenticator, accept: bool
) -> Response:
    token = auth.bearer(request)
    assert token is not None
    if not token.is_curator:
        raise Forbidden("Only a curator may accept or reject contributions.")
    _known_id(contribution_id)
    async with intake.write_lock:
        pending = intake.pending.get(contribution_id)
        if pending is None or pending.status != "pending":
            raise NotFound(f"There is no pending contribution {contribution_id!r}.")
        if not accept:
            intake.pending.decide(contribution_id, "rejected", token.name, now())
            return JSONResponse({"id": contribution_id, "status": "rejected"})
        names = intake.names(contribution_id)
        if await intake.record(contribution_id) is None:
            # Checked again: the store may have changed since it was submitted.
            checked = await _check(request, intake, pending.body, pending.media_type)
            if not checked.conforms:
                return _refusal(request, checked)
            record = intake.record_for(
                names,
                checked,
                pending.contributor,
                pending.licence,
                created=pending.created,
                curator=(token.name, token.slug),
            )
            await intake.publish(names, checked, record)
        intake.pending.decide(contribution_id, "accepted", token.name, now())
    location = f"/contributions/{contribution_id}"
    return JSONResponse(
        {"id": contribution_id, "status": "published", "location": location},
        headers={"Location": location},
    )


@router.post("/contributions/{contribution_id}/accept")
async def accept(
    request: Request, contribution_id: str, intake: IntakeDep, auth: AuthDep
) -> Response:
    return await _decide(request, contribution_id, intake, auth, True)


@router.post("/contributions/{contribution_id}/reject")
async def reject(
    request: Request, contribution_id: str, intake: IntakeDep, auth: AuthDep
) -> Response:
    return await _decide(request, contribution_id, intake, auth, False)
