"""The web layer: HTTP in and out, and nothing below it knows HTTP.

The application factory (``app``) builds the service; the lifespan opens the ``Services``
(``services``: store, intake, caches) and closes them; ``deps`` hands them to routes as typed
dependencies, with the caller's token (``auth``). Every route module lives in ``routes``; what they
share is here: the choice of representation (``negotiation``), conditional requests (``etags``),
answers that can be cut visibly (``streaming``), rendering pages (``pages``, ``i18n``), form bodies
(``forms``), problem+json errors (``errors``), and the middleware (``security``, ``ratelimit``,
``response_cache``); ``routing`` makes every GET answer HEAD. May import every layer below; only
``service.cli`` is above it (docs/architecture.md, "The code, by layer").
"""
