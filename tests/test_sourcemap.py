"""Subject lines in Turtle text: what a contributor's error report points at."""

import pytest

from service.rdf.sourcemap import turtle_source_map

EX = "http://example.org/"

CASES = [
    ("plain subject", "@prefix ex: <http://example.org/> .\nex:a ex:p ex:o .", {"a": 2}),
    (
        "SPARQL-style PREFIX has no dot",
        "PREFIX ex: <http://example.org/>\nex:a ex:p ex:o .",
        {"a": 2},
    ),
    (
        "a dot inside a string does not end the statement",
        '@prefix ex: <http://example.org/> .\nex:a ex:p "x . ex:b" ;\n ex:q ex:o .\nex:c ex:p 1 .',
        {"a": 2, "c": 4},
    ),
    (
        "long strings span lines",
        '@prefix ex: <http://example.org/> .\nex:a ex:p """one .\ntwo\n""" .\nex:b ex:p 2 .',
        {"a": 2, "b": 5},
    ),
    (
        "comments are skipped",
        "@prefix ex: <http://example.org/> .\n# ex:fake ex:p ex:o .\nex:a ex:p ex:o .",
        {"a": 3},
    ),
    (
        "decimals are not statement ends",
        "@prefix ex: <http://example.org/> .\nex:a ex:p 1.5, .5, 2 .\nex:b ex:p ex:o .",
        {"a": 2, "b": 3},
    ),
    (
        "objects inside brackets and lists are not subjects",
        "@prefix ex: <http://example.org/> .\nex:a ex:p [ ex:q ex:inner ] , ( ex:x ex:y ) .\n"
        "[ ex:q ex:r ] ex:p ex:o .\nex:b ex:p ex:o .",
        {"a": 2, "b": 4},
    ),
    (
        "relative IRIs resolve against @base",
        "@base <http://example.org/> .\n<a> <p> <o> .",
        {"a": 2},
    ),
    (
        "a local name may contain a dot but not end with one",
        "@prefix ex: <http://example.org/> .\nex:a.b ex:p ex:o.\nex:c ex:p ex:o .",
        {"a.b": 2, "c": 3},
    ),
    (
        "escaped characters in local names",
        "@prefix ex: <http://example.org/> .\nex:a\\,b ex:p ex:o .",
        {"a,b": 2},
    ),
    (
        "first block wins",
        "@prefix ex: <http://example.org/> .\nex:a ex:p 1 .\nex:a ex:p 2 .",
        {"a": 2},
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_subject_lines(text: str, expected: dict[str, int]) -> None:
    source_map = turtle_source_map(text)
    assert source_map.subjects == {EX + k: v for k, v in expected.items()}


def test_mentions_fall_back_to_first_use() -> None:
    text = "@prefix ex: <http://example.org/> .\nex:a ex:p\n  ex:other .\n"
    source_map = turtle_source_map(text)
    assert source_map.line_of(EX + "other") == 3
    assert source_map.line_of(EX + "a") == 2
    assert source_map.line_of(EX + "missing") is None
