"""Processes: what runs before, or outside, the rest of the service, and so imports nothing of
it — only the standard library and pyoxigraph.

``query_worker`` is the entry point of the query worker processes (``python -m
service.process.query_worker``): the pool (``service.store.worker_pool``) forks them from a
*zygote* that has imported this package and nothing else, so a worker starts in milliseconds
and shares little memory it does not need. ``memory`` sets how the C allocator serves a process
(the server's and the workers'). Keep this package light: importing ``service.store`` here would
load the stores, httpx and rdflib into every worker (docs/architecture.md, "The code, by layer").
"""
