"""The client side of ``meent submit`` and ``meent validate --against``: send a file to a
running instance's ``/contributions`` (or ``/contributions/validate``) and turn its answer into
the lines ``meent validate`` prints (``file:line: severity: focus path: message``) and an exit
status (0 accepted/conforms, 1 violations, 2 the file or request is at fault, 3 the server
cannot be reached or failed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rdflib import URIRef

from service.contrib.reports import compact

#: How a file's suffix names the media type it is sent as (Turtle otherwise).
MEDIA_TYPES = {
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".json": "application/ld+json",
}
TIMEOUT = 60.0


class Unreachable(Exception):
    """The server did not answer (connection refused, timeout, …)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    location: str | None

    @property
    def exit_code(self) -> int:
        if self.status in (200, 201):
            return 0
        if self.status == 422:
            return 1
        if 400 <= self.status < 500:
            return 2
        return 3


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "text/turtle")


def send(
    base: str, route: str, path: Path, body: bytes, *, lang: str, token: str | None = None
) -> Answer:
    """POST ``body`` (read from ``path``) to ``base`` + ``route``."""
    headers = {
        "Content-Type": media_type(path),
        "Accept": "application/problem+json, application/json",
        "Accept-Language": lang,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = base.rstrip("/") + route
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        # InvalidURL (``--to http://[::1``) is not an HTTPError, but the same to a user.
        raise Unreachable(f"{url}: {error or type(error).__name__}") from None
    try:
        parsed = response.json()
    except ValueError:
        parsed = {"detail": response.text[:500]}
    if not isinstance(parsed, dict):
        parsed = {"detail": str(parsed)[:500]}
    location = response.headers.get("location")
    if location:
        location = str(httpx.URL(url).join(location))
    return Answer(response.status_code, parsed, location)


def _term(text: str | None) -> str:
    if text is None:
        return "?"
    if "://" in text and " " not in text:
        return compact(URIRef(text)) or text
    return text


def render(answer: Answer, file: str) -> list[str]:
    """The answer as lines a person can act on, each starting with ``file:line``."""
    body = answer.body
    if answer.status == 400 and body.get("line") is not None:
        where = f"{file}:{body['line']}:{body.get('column') or 0}"
        return [f"{where}: error: {body.get('detail', 'syntax error')}"]
    if "results" not in body:
        return [f"{file}: error: {answer.status} {body.get('detail') or body.get('title', '')}"]
    lines = []
    for result in body["results"]:
        where = file if result.get("line") is None else f"{file}:{result['line']}"
        path = f" {_term(result['path'])}" if result.get("path") else ""
        value = f" (value {result['value']})" if result.get("value") else ""
        severity = str(result.get("severity", "")).lower()
        lines.append(
            f"{where}: {severity}: {_term(result.get('focusNode'))}{path}{value}: "
            f"{result.get('message', '')}"
        )
    verdict = "conforms" if body.get("conforms") else "does not conform"
    lines.append(
        f"{verdict}: {file}, {body.get('triples', 0)} triples, "
        f"{body.get('violations', 0)} violation(s), {body.get('warnings', 0)} warning(s)"
    )
    return lines
