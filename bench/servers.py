"""The three servers of a benchmark run, started as real processes on 127.0.0.1, and a sampler
of their memory (resident set size of each process and all its children, by psutil)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str:
    """The ``oxigraph`` server of the PyPI package, beside this Python or on the PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if found is None:
        raise RuntimeError("no `oxigraph` command: pip install 'oxigraph>=0.5,<0.6'")
    return found


def meent_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "service", *args]


def meent_env(store: Path, query_timeout: float) -> dict[str, str]:
    """Meent's settings for the run: its own store, a query timeout as long as the reference
    servers', and no config file from the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEENT_")}
    env.update(
        MEENT_STORE=str(store),
        MEENT_PROJECT_ROOT=str(ROOT),
        MEENT_QUERY_TIMEOUT=str(query_timeout),
        MEENT_DUMPS_DIR=str(store.parent / "dumps"),
    )
    return env


def run_timed(command: list[str], *, env: dict[str, str] | None = None, log: Path) -> float:
    """Run a command to its end; its seconds. Its output goes to ``log``; failure raises."""
    began = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        done = subprocess.run(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}); see {log}")
    return seconds


@dataclass
class Server:
    """A server process and where to send queries."""

    name: str
    port: int
    query_path: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.perf_counter)
    command: list[str] = field(default_factory=list)
    env: dict | None = None
    #: Restarted on this path's answer after a client timeout (None: waited for instead).
    probe: str | None = None
    #: How long a restart may take until ``probe`` answers (rdflib-endpoint parses its data).
    restart_within: float = 60.0
    on_restart: Callable[[Server], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, probe: str, timeout: float, interval: float = 0.02) -> float:
        """Poll ``probe`` (a path) until it answers 2xx; seconds since the process started."""
        deadline = time.perf_counter() + timeout
        with httpx.Client(timeout=5) as client:
            while time.perf_counter() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited while starting; see {self.log}")
                try:
                    if client.get(self.url + probe).is_success:
                        return time.perf_counter() - self.started
                except httpx.TransportError:
                    pass
                time.sleep(interval)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def restart(self, probe: str, timeout: float) -> None:
        """Kill the process and start the same command on the same port, then wait until it
        answers ``probe``: what an operator does with a server still busy with work its
        client gave up on. Killed, not stopped: on SIGTERM uvicorn (rdflib-endpoint) first
        waits for the request it is still evaluating."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = _popen(self.command, self.log, self.env)
        self.started = time.perf_counter()
        self.wait_ready(probe, timeout)
        if self.on_restart is not None:
            self.on_restart(self)


def _popen(command: list[str], log: Path, env: dict | None) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    out.write(f"\n$ {' '.join(command)}\n".encode())
    out.flush()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() reaches its children too
    )
    out.close()
    return process


def start(
    name: str, command: list[str], port: int, query_path: str, log: Path, env: dict | None = None
) -> Server:
    return Server(name, port, query_path, _popen(command, log, env), log, command=command, env=env)


def start_meent(store: Path, query_timeout: float, log: Path) -> Server:
    port = free_port()
    command = meent_command("serve", "--host", "127.0.0.1", "--port", str(port))
    return start("Meent", command, port, "/sparql", log, meent_env(store, query_timeout))


def start_oxigraph(location: Path, log: Path) -> Server:
    """``oxigraph serve`` without ``--timeout-s``: with it, every query starts a thread that
    waits out the timeout, and at a few thousand lookups a second the process ran out of
    threads and memory within seconds ("Resource temporarily unavailable", then a panic in
    its thread "SPARQL evaluation timeout"; it died halfway through two full runs). The
    driver times requests out itself and then restarts it (``Server.restart``)."""
    port = free_port()
    command = [
        oxigraph_binary(),
        "serve",
        "--location",
        str(location),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    return start("oxigraph serve", command, port, "/query", log)


def start_rdflib(files: list[Path], log: Path) -> Server:
    """rdflib-endpoint's own command: an rdflib ``Dataset`` (default graph = union) in memory,
    the files parsed into it before it listens. It cannot stop a query its client gave up on,
    and one of the example questions can keep it busy for far longer than the timeout: the
    driver restarts it (``Server.restart``), which parses the files again."""
    port = free_port()
    command = [sys.executable, "-m", "rdflib_endpoint", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), *map(str, files)]
    return start("rdflib-endpoint", command, port, "/", log)


def _memory(process: psutil.Process) -> int:
    """A process's proportional set size (Linux), else its resident size."""
    try:
        return process.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return process.memory_info().rss


def tree_rss(pid: int) -> int:
    """Memory of a process and all its descendants (0 when it is gone), as proportional set
    size: pages that processes share — Meent's query workers are forked from one zygote —
    count once in all, as they do in the machine's memory. Summing resident sizes would count
    them once per process. For a single process (``oxigraph serve``) the two are the same."""
    try:
        process = psutil.Process(pid)
        total = _memory(process)
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += _memory(child)
        return total
    except psutil.Error:
        return 0


class MemorySampler:
    """Samples each watched server's tree RSS every ``interval`` seconds in a thread; keeps the
    peak over the whole run and over a window that ``open_window`` restarts."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.window: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.pids[name] = pid

    def sample(self, name: str) -> int:
        """Sample one server now (and count it toward the peaks)."""
        with self._lock:
            pid = self.pids.get(name)
        if pid is None:
            return 0
        rss = tree_rss(pid)
        with self._lock:
            self.peak[name] = max(self.peak.get(name, 0), rss)
            self.window[name] = max(self.window.get(name, 0), rss)
        return rss

    def open_window(self, name: str) -> int:
        """Start a new window for ``name``; returns the RSS now (the window's baseline)."""
        with self._lock:
            self.window[name] = 0
        return self.sample(name)

    def window_peak(self, name: str) -> int:
        """The peak since ``open_window(name)``, counting a sample taken now."""
        now = self.sample(name)
        with self._lock:
            return max(self.window.get(name, 0), now)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                names = list(self.pids)
            for name in names:
                self.sample(name)
