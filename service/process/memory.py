"""How the server process asks the C allocator to use memory.

glibc gives each thread that allocates concurrently its own heap ("arena"), up to eight per
core. The server's threads (request handlers, store reads and writes, validation) spread
their short-lived allocations over those arenas, and a freed block in one arena is not
reused by another: under a stream of contributions the soak test's server grew by ~30 MB a
minute this way, and by ~8 MB with two arenas, at the same throughput. Two arenas is the
setting Python and RocksDB servers commonly run with (``MALLOC_ARENA_MAX=2``).

glibc also keeps what a process frees for its next allocations rather than giving it back. A
query worker (``service.process.query_worker``) that evaluated a large join keeps the join's memory,
unused, until it is replaced; ``release_free_memory`` hands it back after each query.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

#: mallopt's parameter number for the arena limit (glibc's malloc.h).
M_ARENA_MAX = -8
ARENAS = 2


@functools.cache  # find_library runs ldconfig: once per process
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's arenas, unless ``MALLOC_ARENA_MAX`` already chose; call it before the
    server starts its threads. Returns whether the limit is set (False off glibc)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc (musl, macOS): nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Give the memory the process has freed back to the system (glibc's ``malloc_trim``).
    Returns whether any was given back (False off glibc)."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim(0) == 1
