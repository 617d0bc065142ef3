"""A streamed answer that can fail after it began, visibly to every client.

Once the status line has gone, HTTP has one way left to say "this answer is not whole": end the
connection without the chunked body's last, empty chunk (RFC 9112 §7.1). Every HTTP client then
reports an error — httpx a protocol error, curl exit status 18, a browser a network error —
where a clean end would pass a CSV, TSV or N-Triples answer cut at a row boundary off as
complete. ``CutStream`` does that: when its body raises ``StreamCut``, it returns without the
last body message, and the server (uvicorn) closes the connection.
"""

from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Send


class StreamCut(Exception):
    """The answer stops here and is not whole; the message says why (it is logged)."""


class CutStream(StreamingResponse):
    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                if not isinstance(chunk, bytes | memoryview):
                    chunk = chunk.encode(self.charset)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except StreamCut:
            return  # no last chunk: the client sees the answer end in error
        await send({"type": "http.response.body", "body": b"", "more_body": False})
