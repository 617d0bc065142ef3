"""Contributions, without HTTP: what a koppel, collective or civil servant sends, from bytes to
a published named graph with its provenance
(docs/architecture.md, "The path of a contribution").

``intake`` runs the steps: parse (``service.rdf.parsing``), refuse what no contribution may say
(``protected``), validate against the shapes (``validation``) together with the part of the
store the contribution touches (``incremental``, driving pySHACL as ``pyshacl_tuning`` says so
that a small validation costs little), write the graph and its PROV-O record in one step
(``records``), or hold it for review (``pending``). ``tokens`` are the contributors' and
curators' bearer tokens, ``reports`` place each result at a file and line, ``templates`` are
the Turtle templates generated from the shapes, and ``remote_check`` is the client side of
``meent submit``. May import ``service.store``, ``service.rdf``, ``service.config`` and
``service.vocab``.
"""
