"""Contributions for the benchmark: about 50 triples in the generator's vocabulary, about the
generated graph's own municipalities, districts, departments and cohorts.

A contribution is one more *cluster* (a commons with its source, collaboration, practice, koppel
and lesson) as ``bench.generate`` builds them, made by a generator with the same size and seed,
so it points at resources the loaded graph holds — validation then has to look at the store —
while its own resources are new: their slugs end in a number far past any the graph uses.
"""

from __future__ import annotations

import itertools

from bench.generate import SCHEMES_FILE, Generator, Schemes, Zipf

#: Slug numbers of contributions start here: beyond any cluster number of a generated graph.
FIRST_NUMBER = 100_000_000


def contributions(
    triples: int, seed: int, count: int, size: tuple[int, int] = (45, 55)
) -> list[str]:
    """``count`` N-Triples documents of ``size[0]``–``size[1]`` triples each, all different."""
    # The generator's internals, replayed: the backbone (towns, districts, units, cohorts)
    # depends only on the size and the seed, so it is the loaded graph's.
    generator = Generator(triples, seed, Schemes.from_file(SCHEMES_FILE))
    towns = generator._towns()
    for town in towns:
        generator._backbone(town)
    pick_town = Zipf(towns, s=1.0)
    found: list[str] = []
    for n in itertools.count(FIRST_NUMBER):
        cluster = generator._cluster(pick_town.pick(generator.rng), n)
        if size[0] <= len(cluster) <= size[1]:
            found.append("".join(cluster.lines))
            if len(found) == count:
                return found
    raise AssertionError("unreachable")
