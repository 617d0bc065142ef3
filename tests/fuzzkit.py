"""What the fuzz and corpus tests share (issue 8, hostile and malformed input): the service
on a real store synced from the project, and the invariant every answer must keep.

The invariant, for any request however malformed:

- the status is a deliberate 2xx, 3xx or 4xx; a 503 only for a query stopped at the timeout;
- an error answer is ``application/problem+json`` (with its own status in the body), unless
  the client asked for a page (``text/html``) or, for a refused contribution, for the report
  in another format it named;
- no body holds a traceback or a path of the server's own files;
- the store is unchanged by every request that did not succeed in changing it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

import httpx
import pyoxigraph as ox
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from service.config import Settings
from service.contrib.tokens import Role
from service.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
KOPPEL = (ROOT / "tests/fixtures/contributions/koppel.ttl").read_bytes()
PROBLEM = "application/problem+json"
#: What must never reach a client: Python's traceback header and frames, and the places the
#: server's own files live (the checkout, the virtualenv, the interpreter).
LEAKS = (
    "Traceback (most recent call last)",
    'File "',
    '.py"',
    "site-packages",
    str(ROOT),
    sys.prefix,
    *([str(ROOT.parent) + "/"] if ROOT.parent != ROOT.parent.parent else []),
)
#: Media types a refused contribution's report may be negotiated to (besides problem+json).
REPORT_TYPES = ("application/json", "text/turtle", "application/ld+json")
#: Methods and path prefixes that may change the store when they succeed.
WRITES = ("POST", "PUT", "DELETE")
WRITE_PATHS = ("/contributions", "/contribute")


def make_client(tmp: Path, **settings: Any) -> TestClient:
    """The whole service on an in-memory store synced from the project (unless ``store`` is
    given), its dumps in ``tmp``. Server exceptions become 500s, as a real server sends."""
    options: dict[str, Any] = {
        "store": "memory",
        "project_root": ROOT,
        "dumps_dir": tmp / "dumps",
        **settings,
    }
    return TestClient(create_app(Settings(**options)), raise_server_exceptions=False)


def started(client: TestClient) -> Iterator[TestClient]:
    """Run the app's lifespan; make the contribution intake (it parses the shapes once)."""
    with client:
        assert client.get("/contributions").status_code == 200
        yield client


def bearer(client: TestClient, name: str, role: Role = Role.contributor) -> dict[str, str]:
    """An ``Authorization`` header with a new token, as ``meent token create`` makes one."""
    intake = client.app.state.services.intake  # type: ignore[attr-defined]
    _, secret = intake.tokens.create(name, role)
    return {"Authorization": f"Bearer {secret}"}


@dataclass(frozen=True)
class Fingerprint:
    """A cheap summary of the store: triples, named graphs and the change log's head."""

    triples: int
    graphs: frozenset[str]
    last_change: int | None


def fingerprint(client: TestClient) -> Fingerprint:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    portal = client.portal
    assert portal is not None, "use the client inside its lifespan"
    last = portal.call(store.last_change)
    return Fingerprint(
        portal.call(store.triple_count),
        frozenset(portal.call(store.graph_iris)),
        None if last is None else last.seq,
    )


def _sent(response: httpx.Response) -> str:
    """Everything the client sent (redirects followed), in the forms a server might echo."""
    parts = []
    for request in [r.request for r in response.history] + [response.request]:
        url = str(request.url)
        try:
            body = request.content.decode("utf-8", errors="replace")
        except httpx.RequestNotRead:  # the body of a request a redirect repeated
            body = ""
        headers = " ".join(f"{k}: {v}" for k, v in request.headers.items())
        parts += [url, unquote(url), unquote_plus(url), headers, body, unquote_plus(body)]
    return "\n".join(parts)


def check(response: httpx.Response, *, timeout_ok: bool = False) -> None:
    """The invariant for one answer (see the module docstring)."""
    request = response.request
    status = response.status_code
    where = f"{request.method} {str(request.url)[:300]} → {status}: {response.text[:500]!r}"
    assert 200 <= status < 500 or (timeout_ok and status == 503), where
    for name, value in response.headers.multi_items():
        # RFC 9110 §5.5: field values are visible ASCII; a CR or LF would split the response.
        assert value.isascii() and value.isprintable(), f"header {name}: {value!r}: {where}"
    sent = _sent(response)
    body = response.text
    for leak in LEAKS:
        assert leak not in body or leak in sent, f"{leak!r} leaked: {where}"
    if status < 400:
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    accept = request.headers.get("accept", "")
    if media_type == "text/html" and (
        "text/html" in accept or request.url.path.startswith("/contribute")
    ):
        return
    if status == 422 and media_type in REPORT_TYPES and media_type in accept:
        return
    assert media_type == PROBLEM, f"not problem+json: {where}"
    if request.method == "HEAD":
        return  # the headers of the problem document, without it
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"], where
    if status == 503:
        assert "longer than" in problem["detail"], f"a 503 that is not the timeout: {where}"


def send(
    client: TestClient,
    method: str,
    url: str,
    *,
    timeout_ok: bool = False,
    **options: Any,
) -> httpx.Response:
    """One request, checked against the invariant, the store compared before and after."""
    before = fingerprint(client)
    response = client.request(method, url, **options)
    after = fingerprint(client)
    check(response, timeout_ok=timeout_ok)
    changes = (
        method in WRITES
        and response.status_code in (200, 201)
        and response.request.url.path.startswith(WRITE_PATHS)
        and "dry-run" not in response.request.url.query.decode()
        and not response.request.url.path.endswith("/validate")
    )
    if not changes:
        assert before == after, f"the store changed: {method} {url} → {response.status_code}"
    return response


# --- strategies -------------------------------------------------------------------------------

#: Pieces of text that have broken parsers before: non-ASCII digits (``str.isdigit`` is true,
#: ``int`` refuses some), over-long numbers, path tricks, escapes, bidi controls, quotes,
#: brackets, separators of headers and query strings, IRIs that one library accepts and
#: another refuses.
NASTY = (
    "²",
    "٣",
    "𝟗",
    "0",
    "-1",
    "1e3",
    "..",
    "../",
    "%",
    "%00",
    "%2F",
    "%ZZ",
    "\x00",
    "\x7f",
    "\u202e",
    "\ufeff",
    "\ufffd",
    "\U0010ffff",
    "Ω",
    "é",
    " ",
    "\t",
    "\\",
    "'",
    '"',
    "<",
    ">",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "#",
    "?",
    "&",
    "=",
    ";",
    ",",
    "*",
    "/",
    ":",
    "@",
    "q=0",
    "q=abc",
    "*/*",
    "text/*",
    "text/html",
    "application/ld+json",
    "http://",
    "http://[V1.a]/",
    "http://[::1]/",
    "urn:x",
    "_:b",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "<script>",
    "{{7*7}}",
    "$(id)",
)

#: Long runs: numbers past 64 bits and past ``int()``'s 4300 digits, long words.
LONG = st.sampled_from([("9", 30), ("9", 5000), ("a", 300)]).map(lambda cn: cn[0] * cn[1])
#: Text: short runs of any Unicode mixed with the nasty pieces.
nasty_text = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(NASTY), LONG), max_size=6).map(
    "".join
)

#: Header values: what an HTTP server passes on (Latin-1, no control characters but tab).
header_text = st.lists(
    st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")),
        st.sampled_from([n for n in NASTY if n.isascii() and n.isprintable() and len(n) < 100]),
    ),
    max_size=6,
).map("".join)


def headers_bytes(values: Mapping[str, str]) -> dict[str, bytes]:
    """Header values as the bytes a server receives (Latin-1)."""
    return {name: value.encode("latin-1") for name, value in values.items()}


def fuzz(examples: int) -> settings:
    """Hypothesis settings for a fuzz target: ``examples`` cases, no deadline (the service
    validates with pySHACL), no example database in the checkout, the same cases every run so
    the suite stays a gate. ``MEENT_FUZZ_SCALE=N`` runs N times as many, from random seeds:
    exploring, not gating."""
    scale = int(os.environ.get("MEENT_FUZZ_SCALE", "1"))
    return settings(
        max_examples=examples * scale,
        deadline=None,
        database=None,
        derandomize=scale == 1,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# --- RDF documents ----------------------------------------------------------------------------

BASE = "https://w3id.org/meent/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _vocabulary() -> tuple[list[str], list[str], list[str]]:
    """Meent's classes and properties, and the things the curated data describes: what makes
    the validator and the conflict checks do real work."""
    store = ox.Store()
    for folder in ("ontology", "data"):
        for path in sorted((ROOT / folder).glob("*.ttl")):
            store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())

    def column(query: str) -> list[str]:
        rows = store.query(query)
        return sorted({row[0].value for row in rows})  # type: ignore[union-attr]

    classes = column("SELECT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> }")
    properties = column(
        "SELECT ?p WHERE { ?p a ?t VALUES ?t { <http://www.w3.org/2002/07/owl#ObjectProperty> "
        "<http://www.w3.org/2002/07/owl#DatatypeProperty> } }"
    )
    things = column(f"SELECT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{BASE}id/')) }}")
    return classes, properties, things[:200]


CLASSES, PROPERTIES, THINGS = _vocabulary()
COMMON_PROPERTIES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/description",
    "http://purl.org/dc/terms/created",
    "http://www.w3.org/ns/prov#wasDerivedFrom",
    "http://xmlns.com/foaf/0.1/name",
    "https://schema.org/email",
    "https://schema.org/telephone",
    "http://www.w3.org/ns/org#memberOf",
    "http://www.w3.org/2004/02/skos/core#inScheme",
    "http://www.w3.org/2002/07/owl#sameAs",
    "http://www.w3.org/2000/01/rdf-schema#subClassOf",
)
DATATYPES = (
    "string",
    "date",
    "dateTime",
    "gYear",
    "integer",
    "decimal",
    "double",
    "boolean",
    "anyURI",
    "langString",
    "nonsense",
)

#: IRIs: Meent's own and the curated data's (so validation and conflict checks run), new
#: ones under Meent's base with hostile slugs, and odd but well-formed ones.
iris = st.one_of(
    st.sampled_from(CLASSES + PROPERTIES + THINGS),
    st.just("http://a/").map(lambda start: start + "b" * 3000),
    st.builds(
        lambda kind, slug: f"{BASE}id/{kind}/{slug}",
        st.sampled_from(["koppel", "commons", "person", "contribution", "practice", "x"]),
        st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), max_size=12),
    ),
    st.sampled_from(
        [
            "http://[V1.a]/",
            "http://[::1]:0/x",
            "urn:x",
            "tag:a@b,2024:c",
            "https://w3id.org/meent/def#Koppel",
            "https://w3id.org/meent/shapes#KoppelShape",
            "https://w3id.org/meent/graph/contribution/x",
            "https://example.org/%ZZ",
            "https://example.org/é?x#y",
            "file:///etc/passwd",
        ]
    ),
)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")


lexical = st.one_of(
    nasty_text,
    st.sampled_from(
        ["2024-02-30", "2024-13-01", "-0001-01-01", "99999-12-31", "NaN", "INF", "1" * 400]
    ),
)
literals = st.builds(
    lambda value, tail: f'"{_escaped(value)}"{tail}',
    lexical,
    st.one_of(
        st.just(""),
        st.sampled_from(["@nl", "@en", "@en-GB", "@x-" + "a" * 70, "@en--ltr", "@1"]),
        st.sampled_from(DATATYPES).map(lambda d: f"^^<{XSD}{d}>"),
    ),
)


def _term(iri: str) -> str:
    return f"<{iri}>"


#: Objects, RDF 1.2 triple terms among them (``<<( s p o )>>``).
objects = st.one_of(
    iris.map(_term),
    literals,
    st.sampled_from(["_:b0", "_:b1", "[]", "()", "<<( <urn:x:s> <urn:x:p> <urn:x:o> )>>"]),
)


@st.composite
def turtle_documents(draw: st.DrawFn) -> bytes:
    """Turtle with Meent's vocabulary: types, properties, literals, blank nodes, lists."""
    lines = ["@prefix meent: <https://w3id.org/meent/def#> ."]
    if draw(st.booleans()):
        lines.append(f"@base <{draw(iris)}> .")
    for _ in range(draw(st.integers(1, 4))):
        subject = draw(st.one_of(iris.map(_term), st.sampled_from(["_:b0", "[]", "<x>"])))
        kind = draw(st.sampled_from([*CLASSES, f"{BASE}def#Nope"]))
        parts = [f"a <{kind}>"]
        for _ in range(draw(st.integers(0, 4))):
            predicate = draw(st.one_of(st.sampled_from(PROPERTIES + list(COMMON_PROPERTIES))))
            value = draw(
                st.one_of(
                    objects,
                    st.lists(objects, max_size=3).map(lambda xs: "( " + " ".join(xs) + " )"),
                    objects.map(lambda o: f"[ <{RDF_TYPE}> {o} ]"),
                )
            )
            parts.append(f"<{predicate}> {value}")
        lines.append(f"{subject} " + " ;\n    ".join(parts) + " .")
    return "\n".join(lines).encode()


@st.composite
def ntriples_documents(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        subject = draw(st.one_of(iris.map(_term), st.just("_:b0")))
        predicate = draw(st.sampled_from([RDF_TYPE, *PROPERTIES, *COMMON_PROPERTIES]))
        value = draw(st.one_of(iris.map(_term), literals, st.just("_:b1")))
        lines.append(f"{subject} <{predicate}> {value} .")
    return "\n".join(lines).encode()


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text, iris
)
json_keys = st.one_of(
    st.sampled_from(
        [
            "@id",
            "@type",
            "@value",
            "@language",
            "@direction",
            "@list",
            "@set",
            "@reverse",
            "@graph",
            "@included",
            "@nest",
            "@index",
            "@json",
            "@context",
            "@base",
            "@vocab",
            "@version",
            "@protected",
            "@propagate",
            "@import",
            "@container",
            "@prefix",
            "@none",
        ]
    ),
    st.sampled_from(PROPERTIES + list(COMMON_PROPERTIES)),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(json_keys, inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def jsonld_documents(draw: st.DrawFn) -> bytes:
    """JSON-LD: a node with Meent's terms, keywords in odd places, inline contexts."""
    node: dict[str, Any] = {
        "@id": draw(iris),
        "@type": draw(st.one_of(st.sampled_from(CLASSES), json_values)),
    }
    if draw(st.booleans()):
        node["@context"] = draw(
            st.one_of(
                st.just({"@vocab": f"{BASE}def#"}),
                st.dictionaries(json_keys, json_values, max_size=3),
                st.lists(json_values, max_size=2),
            )
        )
    for _ in range(draw(st.integers(0, 4))):
        node[draw(json_keys)] = draw(json_values)
    return json.dumps(node, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[bytes]) -> bytes:
    """A document, sometimes cut short, spliced with bytes, or re-encoded."""
    data = draw(documents)
    how = draw(st.sampled_from(["keep", "keep", "keep", "keep", "cut", "splice", "utf-16", "bom"]))
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "splice":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if how == "utf-16":
        return data.decode("utf-8").encode("utf-16")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    return data


@st.composite
def koppels(draw: st.DrawFn) -> bytes:
    """The contribution fixture with one value replaced by a hostile one: the shapes and the
    conflict checks get a nearly valid document."""
    slug = draw(st.text(st.characters(codec="ascii", categories=["Ll", "Nd"]), min_size=1))
    lines = KOPPEL.replace(b"2024-test-contribution", slug.encode()).rstrip().split(b"\n")
    at = draw(st.integers(6, len(lines) - 1))
    predicate = lines[at].split()[0]
    value = draw(objects).encode()
    lines[at] = b"    " + predicate + b" " + value + (b" ." if at == len(lines) - 1 else b" ;")
    return b"\n".join(lines)
