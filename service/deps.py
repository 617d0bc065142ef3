"""Typed dependency aliases: what a route needs, taken from the app the factory built.

The getters are ``async`` though they never wait: FastAPI runs a plain ``def`` dependency in
its thread pool, and two hops to a thread and back cost a ``/sparql`` request more of the main
process's CPU than checking the query does (py-spy, at a few hundred requests a second)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from service.config import Settings
from service.store import Store


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
