"""Who is asking: a contributor's or curator's bearer token, checked against the private
state, with a limit on failed attempts per client (``service.contrib.tokens``)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from fastapi import Request

from service.contrib.tokens import AuthFailures, Token, TokenStore
from service.web.errors import TooManyRequests, Unauthorized

log = logging.getLogger("meent")


@dataclass(frozen=True)
class Authenticator:
    """Checks secrets against the tokens, counting each client's failures."""

    failures: AuthFailures
    tokens: TokenStore

    def secret(self, request: Request, secret: str | None) -> Token | None:
        return authenticate(request, self.failures, self.tokens, secret)

    def bearer(self, request: Request, *, required: bool = True) -> Token | None:
        return bearer_token(request, self.failures, self.tokens, required=required)


def authenticate(
    request: Request, failures: AuthFailures, tokens: TokenStore, secret: str | None
) -> Token | None:
    """The live token for ``secret``, or None (missing, unknown, revoked, expired).

    A client with too many failures in the window (``auth_failure_limit`` in
    ``auth_failure_window`` s) gets 429 before its token is even looked at. Every failure is
    logged (logger ``meent``) with the client, the request, the reason and, for a revoked or
    expired token, its id — never the secret nor its hash.
    """
    client = request.client.host if request.client else "unknown"
    wait = failures.wait(client, time.monotonic())
    if wait > 0:
        retry_after = math.ceil(wait)
        log.warning(
            "authentication refused for %s %s from %s: too many failures, %d s to wait",
            request.method,
            request.url.path,
            client,
            retry_after,
        )
        raise TooManyRequests(
            "Too many failed authentications from this client; "
            f"try again in {retry_after} s with a valid token.",
            retry_after=retry_after,
        )
    verdict = tokens.verify(secret) if secret else None
    if verdict is not None and verdict.token is not None:
        return verdict.token
    count = failures.fail(client, time.monotonic())
    reason = verdict.reason if verdict is not None else "no token"
    if verdict is not None and verdict.token_id is not None:
        reason += f" {verdict.token_id}"
    log.warning(
        "authentication failed for %s %s from %s: %s (%d of %d allowed in %g s)",
        request.method,
        request.url.path,
        client,
        reason,
        count,
        failures.limit,
        failures.window,
    )
    return None


def bearer_token(
    request: Request, failures: AuthFailures, tokens: TokenStore, *, required: bool = True
) -> Token | None:
    """The token of the request's ``Authorization: Bearer`` header; 401 when it is missing
    (unless not ``required``) or not live."""
    header = request.headers.get("authorization")
    if not header and not required:
        return None
    scheme, _, secret = (header or "").partition(" ")
    if header and scheme.lower() != "bearer":
        secret = ""  # another scheme: a failure, but not a secret to look up
    token = authenticate(request, failures, tokens, secret.strip() or None)
    if token is None:
        if not header:
            raise Unauthorized("This needs a bearer token: Authorization: Bearer <token>.")
        raise Unauthorized("The bearer token is unknown, revoked or expired.", invalid=True)
    return token
