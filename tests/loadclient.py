"""A load client run as its own process (so that the test's interpreter does not share a GIL
with it): ``python tests/loadclient.py URL QUERY CONCURRENCY SECONDS`` sends the query by
POST to URL/sparql from CONCURRENCY connections for SECONDS and prints, as JSON, the status
and latency (seconds) of every request. Each request ends the query with a comment of its own,
so that every one is evaluated (the response cache would answer a repeated one)."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import httpx

HEADERS = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}


async def load(url: str, query: str, concurrency: int, seconds: float) -> list[tuple[int, float]]:
    done: list[tuple[int, float]] = []
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    numbers = itertools.count()
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one() -> None:
            while time.monotonic() < until:
                began = time.perf_counter()
                try:
                    body = f"{query}\n# {next(numbers)}"
                    response = await client.post("/sparql", content=body, headers=HEADERS)
                    status = response.status_code
                except httpx.TransportError:
                    status = 0
                done.append((status, time.perf_counter() - began))

        await asyncio.gather(*(one() for _ in range(concurrency)))
    return done


if __name__ == "__main__":
    url, query, concurrency, seconds = sys.argv[1:5]
    print(json.dumps(asyncio.run(load(url, query, int(concurrency), float(seconds)))))
