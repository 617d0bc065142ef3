"""RDF and SPARQL as text: no store, no HTTP.

Parsing with exact error positions (``parsing``), the canonical Turtle layout (``formatting``),
where each subject starts in a Turtle file (``sourcemap``), the formats Meent reads and writes and
negotiation over them (``conneg``), how each is written (``writing``), the canonical hash of a
dataset (``canonical``), the one lexer of SPARQL text (``sparqltext``), and the example questions of
``queries/`` (``queries``). May import ``service.vocab`` only
(docs/architecture.md, "The code, by layer").
"""
