"""The reference for contribution validation: pySHACL over the whole graph, the way a service
without incremental validation would check a contribution.

``python -m bench.whole_graph FILE [FILE…]`` parses the files with rdflib, validates the union
with Meent's shapes and ontology (``service.contrib.validation.Validator``, as ``meent validate``
does) and prints one JSON object: triples, parse seconds, validation seconds, conforms. It runs
in its own process so that its memory never counts against a server's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rdflib import Graph

from service.contrib.validation import Validator

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    began = time.perf_counter()
    graph = Graph()
    for name in argv:
        graph.parse(name, format="nt" if name.endswith(".nt") else None)
    parsed = time.perf_counter()
    validator = Validator.from_project(ROOT)
    ready = time.perf_counter()
    report = validator.validate(graph)
    done = time.perf_counter()
    answer = {
        "triples": len(graph),
        "parse_s": parsed - began,
        "shapes_s": ready - parsed,
        "validate_s": done - ready,
        "conforms": report.conforms,
        "violations": len(report.violations),
    }
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
