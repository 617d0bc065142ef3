"""Typed dependencies: what a route needs, taken from the ``Services`` the lifespan opened
(``service.web.services``), and who is asking (``authenticate``).

The getters are ``async`` though they never wait: FastAPI runs a plain ``def`` dependency in
its thread pool, and two hops to a thread and back cost a ``/sparql`` request more of the main
process's CPU than checking the query does (py-spy, at a few hundred requests a second)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from service.config import Settings
from service.contrib.intake import Intake
from service.store import Store
from service.web.auth import Authenticator
from service.web.services import Services, services_of


async def get_services(request: Request) -> Services:
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_app_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_templates(services: ServicesDep) -> Jinja2Templates:
    return services.templates


async def get_intake(services: ServicesDep) -> Intake:
    return services.intake


async def get_authenticator(services: ServicesDep) -> Authenticator:
    return services.auth


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
AuthDep = Annotated[Authenticator, Depends(get_authenticator)]
