"""The benchmark's server handling (``bench/servers.py``): a reference server still busy with a
request its client gave up on is restarted, not waited for."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path

import httpx

from bench import servers

# A server that answers /ready at once and spends minutes on /slow; on SIGTERM it would exit
# normally (Python's default), which is how the test tells a kill from a stop.
BUSY_SERVER = """
import http.server, sys, time

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(600)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_a_busy_server_is_killed_and_started_again_on_the_same_port(tmp_path: Path) -> None:
    port = servers.free_port()
    command = [sys.executable, "-c", BUSY_SERVER, str(port)]
    server = servers.start("busy", command, port, "/", tmp_path / "busy.log")
    try:
        server.wait_ready("/ready", 30)
        # A client that gives up on a request the server goes on working on.
        with contextlib.suppress(httpx.TimeoutException):
            httpx.get(server.url + "/slow", timeout=0.5)
        old = server.process

        server.restart("/ready", 30)

        assert old.returncode == -signal.SIGKILL
        assert server.process.pid != old.pid
        assert server.alive()
        assert httpx.get(server.url + "/ready", timeout=5).text == "ok"
    finally:
        server.stop()
    assert not server.alive()
