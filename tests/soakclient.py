"""The soak test's clients, run as a process of their own:
``python tests/soakclient.py URL TOKEN CLIENTS SECONDS`` sends a mix of reads and
contributions from CLIENTS connections for SECONDS and prints, as JSON, per kind of request
the status and latency (seconds) of each, and the statuses that kind may answer with."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

BASE = "https://w3id.org/meent/"
KOPPEL = (Path(__file__).parent / "fixtures/contributions/koppel.ttl").read_text()
RESULTS = "application/sparql-results+json"
RESOURCES_QUERY = f"""SELECT DISTINCT ?s WHERE {{
  GRAPH ?g {{ ?s a ?type }}
  FILTER (STRSTARTS(STR(?g), "{BASE}graph/data/") && STRSTARTS(STR(?s), "{BASE}id/"))
}}"""
AGGREGATE = "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type ORDER BY DESC(?n)"
Kind = tuple[str, float, frozenset[int]]  # name, weight, the statuses it may answer with


class Mix:
    def __init__(self, client: httpx.AsyncClient, token: str, resources: list[str]) -> None:
        self.client = client
        self.token = token
        self.resources = resources
        self.sent = 0

    def _resource(self, rng: random.Random) -> str:
        # Skewed as real use is: a few resources are asked for far more often than the rest.
        return self.resources[min(int(rng.paretovariate(1.2)) - 1, len(self.resources) - 1)]

    async def page(self, rng: random.Random) -> int:
        accept = rng.choice(["text/html", "text/turtle", "application/ld+json"])
        path = "/doc/" + self._resource(rng).removeprefix(BASE + "id/")
        return (await self.client.get(path, headers={"Accept": accept})).status_code

    async def redirect(self, rng: random.Random) -> int:
        path = "/id/" + self._resource(rng).removeprefix(BASE + "id/")
        return (await self.client.get(path, follow_redirects=False)).status_code

    async def lookup(self, rng: random.Random) -> int:
        query = f"SELECT ?p ?o WHERE {{ <{self._resource(rng)}> ?p ?o }} LIMIT 50"
        headers = {"Content-Type": "application/sparql-query", "Accept": RESULTS}
        return (await self.client.post("/sparql", content=query, headers=headers)).status_code

    async def aggregate(self, rng: random.Random) -> int:
        params = {"query": AGGREGATE}
        return (
            await self.client.get("/sparql", params=params, headers={"Accept": RESULTS})
        ).status_code

    async def search(self, rng: random.Random) -> int:
        word = rng.choice(["koppel", "Noord", "energie", "food", "cohort", "zzz"])
        return (await self.client.get("/search", params={"q": word})).status_code

    async def harvest(self, rng: random.Random) -> int:
        path = rng.choice(["/catalog", "/.well-known/void", "/ldes", "/sitemap.xml"])
        return (await self.client.get(path, follow_redirects=True)).status_code

    async def contribute(self, rng: random.Random) -> int:
        self.sent += 1
        slug = f"soak-{rng.getrandbits(48):012x}-{self.sent}"
        body = KOPPEL.replace("2024-test-contribution", slug)
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {self.token}"}
        return (await self.client.post("/contributions", content=body, headers=headers)).status_code

    async def refused(self, rng: random.Random) -> int:
        body = KOPPEL.replace("meent:inCohort", "meent:nextStep")  # a koppel without cohort
        headers = {"Content-Type": "text/turtle"}
        return (
            await self.client.post("/contributions/validate", content=body, headers=headers)
        ).status_code

    async def listing(self, rng: random.Random) -> int:
        return (await self.client.get("/contributions")).status_code


KINDS: list[tuple[str, float, frozenset[int]]] = [
    ("page", 30, frozenset({200})),
    ("redirect", 10, frozenset({303})),
    ("lookup", 20, frozenset({200})),
    ("aggregate", 5, frozenset({200})),
    ("search", 5, frozenset({200})),
    ("harvest", 5, frozenset({200})),
    ("contribute", 10, frozenset({201})),
    ("refused", 10, frozenset({422})),
    ("listing", 5, frozenset({200})),
]


async def soak(url: str, token: str, clients: int, seconds: float) -> dict[str, list]:
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        found = await client.post(
            "/sparql",
            content=RESOURCES_QUERY,
            headers={"Content-Type": "application/sparql-query", "Accept": RESULTS},
        )
        resources = sorted(b["s"]["value"] for b in found.json()["results"]["bindings"])
        mix = Mix(client, token, resources)
        done: dict[str, list] = {name: [] for name, _, _ in KINDS}
        until = time.monotonic() + seconds

        async def one(seed: int) -> None:
            rng = random.Random(seed)
            names = [name for name, _, _ in KINDS]
            weights = [weight for _, weight, _ in KINDS]
            while time.monotonic() < until:
                name = rng.choices(names, weights)[0]
                request: Callable[[random.Random], Awaitable[int]] = getattr(mix, name)
                began = time.perf_counter()
                try:
                    status = await request(rng)
                except httpx.TransportError:
                    status = 0
                done[name].append((status, time.perf_counter() - began))

        await asyncio.gather(*(one(seed) for seed in range(clients)))
    return {
        "resources": len(resources),
        "kinds": done,
        "expected": {n: sorted(s) for n, _, s in KINDS},
    }


if __name__ == "__main__":
    url, token, clients, seconds = sys.argv[1:5]
    print(json.dumps(asyncio.run(soak(url, token, int(clients), float(seconds)))))
