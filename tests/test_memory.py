"""The allocator tuning ``meent serve`` applies before it starts (service/process/memory.py)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from service.process.memory import limit_malloc_arenas

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is glibc's")
def test_arenas_are_limited_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


def test_an_operators_choice_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is False


#: Allocates ~200 MB in blocks malloc serves (larger than pymalloc's 512 bytes), frees all but
#: every 50th (so the freed memory is in holes, not at the top of the heap, where glibc would
#: give it back by itself), then prints the resident size before and after release_free_memory.
_HOLES = """
import os, sys
from service.process.memory import release_free_memory
page = os.sysconf("SC_PAGE_SIZE")
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
blocks = [bytes(2000) for _ in range(100_000)]
kept = blocks[::50]
del blocks
before = resident()
released = release_free_memory()
print(released, before, resident())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_memory_is_given_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _HOLES], capture_output=True, text=True, check=True, cwd=ROOT
    )
    released, before, after = done.stdout.split()
    assert released == "True"
    assert int(before) - int(after) > 100 * 1024 * 1024, done.stdout
