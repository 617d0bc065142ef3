"""Where a page links for an IRI: canonical IRIs on this host, everything else via /resource.

The service answers for its canonical IRIs on whatever host it runs on
(docs/architecture.md, "IRIs"), so a link to ``https://w3id.org/meent/id/commons/noordoogst``
becomes ``/doc/commons/noordoogst`` here — the document, skipping the 303 a browser would
otherwise follow.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode


def local_href(iri: str, base_iri: str) -> str:
    """The local path that shows ``iri``."""
    if iri.startswith(base_iri):
        rest = iri[len(base_iri) :]
        if rest.startswith("id/") and _is_thing_path(rest[3:]):
            return "/doc/" + rest[3:]
        # The ontology and shapes graphs are documented by their pages.
        if rest in ("graph/ontology", "graph/shapes"):
            return "/def" if rest == "graph/ontology" else "/shapes"
        for name in ("def", "shapes"):
            if rest == name or rest.startswith(name + "#"):
                return "/" + rest
            if rest.startswith(name + "/"):  # version IRIs: the current documentation
                return "/" + name
    return "/resource?" + urlencode({"iri": iri})


def _is_thing_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and all(parts) and "#" not in path and "?" not in path


def doc_iri(base_iri: str, type_: str, slug: str) -> str:
    return f"{base_iri}id/{type_}/{slug}"


def sparql_describe(iri: str) -> str:
    """A link that opens ``DESCRIBE <iri>`` in the query editor."""
    return "/sparql?" + urlencode({"query": f"DESCRIBE <{iri}>"}, quote_via=quote)
