"""The routes: one module per surface of the service, each an ``APIRouter``
(``service.web.routing.Router``) that ``service.web.app`` includes in the order below.

Route modules translate HTTP to calls into the layers below (``service.views``,
``service.harvest``, ``service.contrib``, ``service.store``) and back; only the web layer
imports them (docs/architecture.md, "The code, by layer").
"""

from __future__ import annotations

from fastapi import APIRouter

from service.web.routes import (
    browse,
    catalog,
    contribute,
    contributions,
    dumps,
    ldes,
    linkeddata,
    ontology,
    sitemap,
    sparql,
    void,
)

#: In the order they are matched: the first route whose path fits answers.
ROUTERS: tuple[APIRouter, ...] = (
    sparql.router,
    contribute.router,
    contributions.router,
    linkeddata.router,
    ontology.router,
    browse.router,
    catalog.router,
    dumps.router,
    void.router,
    sitemap.router,
    ldes.router,
)
