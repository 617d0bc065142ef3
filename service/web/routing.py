"""The service's router: an ``APIRouter`` whose GET routes answer HEAD too.

HTTP says a server should answer HEAD wherever it answers GET (RFC 9110 §9.3.2), and link
checkers and harvesters (the data.europa.eu URL checker among them) ask with HEAD. FastAPI's
``get`` registers GET alone; here it registers both, so no route can forget HEAD. The
OpenAPI document leaves HEAD out (``service.web.app``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class Router(APIRouter):
    def get(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["GET", "HEAD"], **kwargs)
