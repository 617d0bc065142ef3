"""Read models: what the pages show, built from the store without HTTP.

The description of a resource (``describe``) and what a person sees of it (``resource_view``,
with ``labels`` in the reader's language and ``links`` to local pages), its schema.org JSON-LD
(``schemaorg``), the ways into the graph (``browse``), and the vocabularies as documents: an
index of a small graph (``graphindex``), the ontology's and shapes' documentation
(``ontology_doc``), its JSON-LD context (``jsonld_context``) and class diagram
(``ontology_diagram``). May import ``service.store``, ``service.rdf``, ``service.config`` and
``service.vocab``.
"""
