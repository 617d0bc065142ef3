"""The contribution page for people (issue 6), and the template Turtle files it offers.

- ``GET /contribute``: paste Turtle or upload a file, pick nl/en, check or submit.
- ``POST /contribute`` (a plain form: works without JavaScript): fields ``turtle``, ``upload``
  (a file), ``token``, ``lang`` and ``action=check|submit``. The page comes back with the text,
  its lines numbered and the lines the report points at marked, the report itself, and after a
  submit with a token the link to the stored contribution. Everything shown is escaped.
- ``GET /contributions/templates/`` and ``/contributions/templates/{name}.ttl``: a template
  per class, generated from the shapes (``service.contrib.templates``).

Checking and storing are the intake's, exactly as ``/contributions`` does them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from service.contrib.intake import Checked
from service.contrib.records import CC_BY
from service.contrib.reports import compact
from service.rdf.parsing import RdfSyntaxError
from service.web.deps import ServicesDep
from service.web.errors import NotFound
from service.web.forms import form_fields
from service.web.i18n import LANGUAGES, page_language
from service.web.pages import render
from service.web.routing import Router
from service.web.services import Services

router = Router(tags=["contributions"])
#: What a form may add around the contribution itself (field names, boundaries, the token).
FORM_OVERHEAD = 64 * 1024
UPLOAD_TYPES = {".nt": "application/n-triples", ".jsonld": "application/ld+json"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Contribute",
        "intro": "Paste Turtle or upload a file. Check it against Meent's shapes and the "
        "published data — no token needed — then submit it with your token.",
        "templates": "Start from a template",
        "templates_intro": "Generated from the shapes, so they ask for what validation asks:",
        "paste": "Turtle",
        "upload": "or upload a file (Turtle, N-Triples, JSON-LD)",
        "lang": "Language of the messages",
        "token": "Token (only to submit)",
        "check": "Check",
        "submit": "Submit",
        "report": "Report",
        "conforms": "The contribution conforms: {v} violation(s), {w} warning(s), {n} triples.",
        "fails": "The contribution does not conform: {v} violation(s), {w} warning(s).",
        "syntax": "The text is not valid {type}",
        "at": "at line {line}, column {column}",
        "stored": "Stored. Your contribution:",
        "pending": "Received: it waits for a curator's review.",
        "no_token": "Submitting needs a token: ask a curator for one.",
        "bad_token": "The token is unknown, revoked or expired.",
        "empty": "Paste some Turtle or choose a file.",
        "too_large": "A contribution may be at most {limit} bytes.",
        "line": "Line",
        "severity": "Severity",
        "focus": "Resource",
        "path": "Property",
        "value": "Value",
        "message": "What to do",
        "text": "Your text",
    },
    "nl": {
        "title": "Bijdragen",
        "intro": "Plak Turtle of upload een bestand. Controleer het tegen de vormen van Meent "
        "en de gepubliceerde data — zonder token — en dien het daarna in met uw token.",
        "templates": "Begin met een sjabloon",
        "templates_intro": "Gegenereerd uit de vormen, dus ze vragen wat de validatie vraagt:",
        "paste": "Turtle",
        "upload": "of upload een bestand (Turtle, N-Triples, JSON-LD)",
        "lang": "Taal van de meldingen",
        "token": "Token (alleen om in te dienen)",
        "check": "Controleren",
        "submit": "Indienen",
        "report": "Rapport",
        "conforms": "De bijdrage voldoet: {v} overtreding(en), {w} waarschuwing(en), {n} tripels.",
        "fails": "De bijdrage voldoet niet: {v} overtreding(en), {w} waarschuwing(en).",
        "syntax": "De tekst is geen geldige {type}",
        "at": "op regel {line}, kolom {column}",
        "stored": "Opgeslagen. Uw bijdrage:",
        "pending": "Ontvangen: de bijdrage wacht op beoordeling door een curator.",
        "no_token": "Indienen vraagt een token: vraag er een aan een curator.",
        "bad_token": "Het token is onbekend, ingetrokken of verlopen.",
        "empty": "Plak Turtle of kies een bestand.",
        "too_large": "Een bijdrage mag hoogstens {limit} bytes zijn.",
        "line": "Regel",
        "severity": "Ernst",
        "focus": "Bron",
        "path": "Eigenschap",
        "value": "Waarde",
        "message": "Wat te doen",
        "text": "Uw tekst",
    },
}


@dataclass
class Outcome:
    """What the page shows after a check or a submit."""

    status: int = 200
    error: str | None = None
    summary: str | None = None
    conforms: bool | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    marks: dict[int, str] = field(default_factory=dict)  # line → "violation" | "warning"
    location: str | None = None
    pending: bool = False


@router.get("/contributions/templates/")
async def list_templates(services: ServicesDep) -> JSONResponse:
    maker = services.template_maker
    items = [
        {"name": name, "class": str(cls), "href": f"/contributions/templates/{name}.ttl"}
        for name, cls in sorted(maker.names().items())
    ]
    return JSONResponse({"items": items})


@router.get("/contributions/templates/{name}.ttl")
async def get_template(request: Request, name: str, services: ServicesDep) -> Response:
    maker = services.template_maker
    if name not in maker.names():
        raise NotFound(f"There is no template {name!r}; see /contributions/templates/.")
    lang = request.query_params.get("lang") or page_language(request)
    text = maker.render(name, lang if lang in LANGUAGES else "en")
    return Response(text, media_type="text/turtle; charset=utf-8")


def _page(
    request: Request,
    services: Services,
    lang: str,
    text: str = "",
    outcome: Outcome | None = None,
) -> Response:
    outcome = outcome or Outcome()
    lines = [
        {"n": n, "text": line, "mark": outcome.marks.get(n)}
        for n, line in enumerate(text.splitlines(), start=1)
    ]
    return render(
        request,
        services.templates,
        services.settings,
        "contribute.html",
        {
            "lang": lang,
            "w": WORDS[lang],
            "text": text,
            "lines": lines if outcome.marks or outcome.error else [],
            "outcome": outcome,
            "template_names": sorted(services.template_maker.names()),
        },
        status_code=outcome.status,
        headers={"Vary": "Accept-Language, Cookie", "Cache-Control": "no-store"},
    )


@router.get("/contribute")
async def contribute_page(request: Request, services: ServicesDep) -> Response:
    return _page(request, services, page_language(request))


async def _form(request: Request, limit: int) -> dict[str, tuple[bytes, str | None]] | None:
    """The posted form's fields (name → bytes, file name), or None past the size limit."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    raw = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return {k: (v[0], v[2]) for k, v in form_fields(raw, content_type).items()}
    parsed = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: (v[0].encode(), None) for k, v in parsed.items()}


def _field(fields: dict[str, tuple[bytes, str | None]], name: str) -> str:
    return fields.get(name, (b"", None))[0].decode("utf-8", errors="replace").strip()


@router.post("/contribute")
async def contribute(request: Request, services: ServicesDep) -> Response:
    settings, intake = services.settings, services.intake
    page_lang = page_language(request)
    limit = settings.max_contribution_bytes
    fields = await _form(request, limit + FORM_OVERHEAD)
    if fields is None:
        words = WORDS[page_lang]
        outcome = Outcome(413, error=words["too_large"].format(limit=limit))
        return _page(request, services, page_lang, outcome=outcome)
    lang = _field(fields, "lang")
    lang = lang if lang in LANGUAGES else page_lang
    words = WORDS[lang]
    body, filename = fields.get("upload", (b"", None))
    media_type = "text/turtle"
    if body.strip():
        suffix = "." + (filename or "").rsplit(".", 1)[-1].lower()
        media_type = UPLOAD_TYPES.get(suffix, "text/turtle")
    else:
        body = fields.get("turtle", (b"", None))[0].replace(b"\r\n", b"\n")
    text = body.decode("utf-8", errors="replace")
    if not body.strip():
        return _page(request, services, lang, outcome=Outcome(400, error=words["empty"]))
    if len(body) > limit:
        outcome = Outcome(413, error=words["too_large"].format(limit=limit))
        return _page(request, services, lang, text, outcome)
    submitting = _field(fields, "action") == "submit"
    token = None
    if submitting:
        secret = _field(fields, "token")
        token = services.auth.secret(request, secret or None)
        if token is None:
            error = words["bad_token"] if secret else words["no_token"]
            return _page(request, services, lang, text, Outcome(401, error))
    async with intake.write_lock:
        try:
            checked = await intake.check(body, media_type)
        except RdfSyntaxError as error:
            outcome = _syntax(error, media_type, words)
            return _page(request, services, lang, text, outcome)
        outcome = _report(checked, lang, words)
        if submitting and token is not None and checked.conforms:
            contribution_id = await intake.submit(checked, token, CC_BY)
            outcome.location = f"/contributions/{contribution_id}"
            outcome.pending = settings.review_mode
            outcome.status = 201
    return _page(request, services, lang, text, outcome)


def _syntax(error: RdfSyntaxError, media_type: str, words: dict[str, str]) -> Outcome:
    message = words["syntax"].format(type=media_type)
    if error.line is not None:
        message += " " + words["at"].format(line=error.line, column=error.column or 0)
    outcome = Outcome(400, error=f"{message}: {error.message}")
    if error.line is not None:
        outcome.marks[error.line] = "violation"
    return outcome


def _report(checked: Checked, lang: str, words: dict[str, str]) -> Outcome:
    violations, warnings = len(checked.report.violations), len(checked.report.warnings)
    outcome = Outcome(200 if checked.conforms else 422, conforms=checked.conforms)
    key = "conforms" if checked.conforms else "fails"
    outcome.summary = words[key].format(v=violations, w=warnings, n=len(checked.data))
    for item in checked.located:
        r = item.result
        severity = r.severity.lower()
        outcome.results.append(
            {
                "line": item.line,
                "severity": severity,
                "focus": compact(r.focus),
                "path": compact(r.path),
                "value": compact(r.value),
                "message": r.message(lang),
            }
        )
        if item.line is not None and outcome.marks.get(item.line) != "violation":
            outcome.marks[item.line] = severity if severity == "violation" else "warning"
    return outcome
