"""Settings: ``MEENT_`` environment variables and an optional TOML file.

The names are a contract (docs/architecture.md, "The command line and the settings").

Precedence, highest first: values passed to ``Settings(...)`` (the CLI's options), environment
variables (``MEENT_STORE``, ``MEENT_BASE_IRI``, ``MEENT_QUERY_TIMEOUT``, …), the config file,
the defaults below. The config file is the one ``MEENT_CONFIG`` names, else ``meent.toml`` in
the working directory if there is one; its keys are the setting names without the prefix::

    store = "/srv/meent/store"
    base_iri = "https://w3id.org/meent/"
    query_timeout = 10

Pointing Meent at a SPARQL server instead of the embedded store::

    remote = "http://127.0.0.1:7878/"          # Oxigraph server: /query, /update, /store
    # Apache Jena Fuseki (dataset "meent"); its TDB2 dataset needs tdb2:unionDefaultGraph true
    remote = "http://127.0.0.1:3030/meent/"
    remote_query = "query"
    remote_update = "update"
    remote_gsp = "data"
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "MEENT_CONFIG"
CONFIG_FILE = "meent.toml"
MEMORY = "memory"
#: The dumps' manifest in ``dumps_path``: what the service serves, and what a restore removes
#: so the dumps are built again for the restored content.
DUMPS_MANIFEST = "manifest.json"


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding ``ontology/`` and ``shapes/``: found upwards from ``start`` (default:
    the working directory), then upwards from this package, so that ``meent serve`` works from
    any directory of a checkout and from an editable install. Falls back to the working
    directory, where a missing folder then gives a clear error at load time.
    """
    here = Path(__file__).resolve().parent
    for origin in (start or Path.cwd(), here):
        for folder in (origin.resolve(), *origin.resolve().parents):
            if (folder / "ontology").is_dir() and (folder / "shapes").is_dir():
                return folder
    return (start or Path.cwd()).resolve()


@dataclass(frozen=True)
class RemoteEndpoints:
    """The three endpoints of a SPARQL 1.1 server (Protocol query, Update, Graph Store)."""

    query: str
    update: str
    gsp: str


class Settings(BaseSettings):
    """Everything configurable. Build one per process (``get_settings``) or per test."""

    model_config = SettingsConfigDict(env_prefix="MEENT_", extra="ignore")

    project_root: Path = Field(
        default_factory=find_project_root,
        description="Folder with ontology/, shapes/ and data/.",
    )
    store: str | None = Field(
        default=None,
        description='Embedded store directory, or "memory"; default <project_root>/var/store.',
    )
    remote: str | None = Field(
        default=None,
        description="Base URL of a SPARQL 1.1 server; when set, the embedded store is not used.",
    )
    remote_query: str = Field(
        default="query", description="Query endpoint, absolute or relative to remote."
    )
    remote_update: str = Field(
        default="update", description="Update endpoint, absolute or relative to remote."
    )
    remote_gsp: str = Field(
        default="store", description="Graph Store Protocol endpoint, absolute or relative."
    )
    remote_timeout: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds the SPARQL server may take to answer the service's own requests (pages, "
            "contributions); past it they get 504. Public /sparql queries have query_timeout."
        ),
    )
    remote_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds to wait for a connection to the SPARQL server; past it, 503.",
    )
    base_iri: str = Field(default="https://w3id.org/meent/", description="Canonical base IRI.")
    query_timeout: float = Field(default=30.0, gt=0, description="SPARQL query timeout, seconds.")
    query_workers: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Processes that evaluate public SPARQL queries on the embedded on-disk store (one "
            "query each; a query past the timeout is stopped by killing its process). "
            "Default: two per CPU, at least four."
        ),
    )
    long_queries: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Long public SPARQL queries (past 0.1 s of CPU or 0.5 s) that run at once on "
            "the embedded on-disk store; the others wait (run again from the start, or paused "
            "once they have begun to answer), with their timeout running. "
            "Default: one per CPU."
        ),
    )
    max_result_rows: int | None = Field(
        default=None,
        ge=1,
        description="At most this many solutions per public query (applied as a LIMIT).",
    )
    max_query_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest SPARQL query (request body) accepted."
    )
    response_cache_mb: float = Field(
        default=64.0,
        ge=0,
        description=(
            "Memory for answers kept to be served again until the graph changes (pages, "
            "DESCRIBE, repeated queries); 0 turns the cache off."
        ),
    )
    federation: bool = Field(
        default=False, description="Allow SERVICE in public queries (lets anyone make us fetch)."
    )
    sync_on_start: bool = Field(
        default=True,
        description="Sync ontology/, shapes/ and data/ into the store when the service starts.",
    )
    dumps_dir: Path | None = Field(
        default=None,
        description="Where the full dumps are built; default <project_root>/var/dumps.",
    )
    dump_interval: float = Field(
        default=300.0,
        ge=0,
        description=(
            "Seconds a build of the dumps, and the VoID statistics, serve after the data "
            "changed before the next request makes them anew (each reads the whole graph); "
            "0 makes them anew at once."
        ),
    )
    instance_title: str = Field(
        default="Meent", description="Title of this instance's catalogue and dataset."
    )
    instance_description: str = Field(
        default=(
            "A linked-data knowledge graph of public–collective collaboration: commons, "
            "municipalities, programmes, koppels and the practices, instruments, barriers "
            "and lessons of their work together, every fact with its source."
        ),
        description="Description of the dataset in the catalogue.",
    )
    publisher_name: str = Field(
        default="Meent", description="Name of the organisation that runs this instance."
    )
    publisher_iri: str | None = Field(
        default=None,
        description="IRI of the publishing organisation; default {base_iri}catalog#publisher.",
    )
    publisher_type: str = Field(
        default="NonProfitOrganisation",
        description="ADMS publisher type (http://purl.org/adms/publishertype/…) of the publisher.",
    )
    contact_email: str | None = Field(
        default=None,
        description="The publishing organisation's public contact address (never a person's).",
    )
    contact_url: str | None = Field(
        default=None, description="The organisation's contact page; default the landing page."
    )
    temporal_start: str = Field(
        default="2014-01-01", description="Start of the period the data is about (xsd:date)."
    )
    temporal_end: str | None = Field(
        default=None, description="End of that period (xsd:date); open when unset."
    )
    ldes_page_size: int = Field(
        default=100, ge=1, description="Members per page of the change feed (/ldes)."
    )
    max_contribution_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1, description="Largest contribution accepted (413 beyond)."
    )
    review_mode: bool = Field(
        default=False,
        description="Contributions wait as pending until a curator accepts or rejects them.",
    )
    rate_limit_sparql: float | None = Field(
        default=None,
        gt=0,
        description="SPARQL requests per minute per client (429 beyond); unlimited if unset.",
    )
    rate_limit_contributions: float | None = Field(
        default=None,
        gt=0,
        description="Contribution requests per minute per client (429 beyond); unlimited if unset.",
    )
    rate_limit_burst: int = Field(
        default=20, ge=1, description="Requests a client may send at once before the rate applies."
    )
    auth_failure_limit: int = Field(
        default=10,
        ge=0,
        description=(
            "Failed authentications (missing, unknown, revoked or expired token) a client may "
            "have within auth_failure_window before it gets 429; 0 turns the limit off."
        ),
    )
    auth_failure_window: float = Field(
        default=600.0, gt=0, description="Seconds over which failed authentications count."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    access_log: bool = Field(
        default=False,
        description=(
            "Log a line per request (uvicorn's access log). Off by default, as in oxigraph "
            "serve: formatting and writing the line cost a fifth of a cached answer's CPU. "
            "Errors and warnings are logged either way."
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Read when settings are built, not at import: tests and the CLI can set MEENT_CONFIG.
        sources = [init_settings, env_settings]
        config_file = config_file_path()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("base_iri")
    @classmethod
    def _base_iri_ends_with_slash(cls, value: str) -> str:
        # Graph and resource IRIs are built by appending paths ("graph/data/x").
        if not value.endswith(("/", "#")):
            raise ValueError("base_iri must end with '/' or '#'")
        return value

    @field_validator("remote")
    @classmethod
    def _remote_is_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("remote must be an http(s) URL")
        # urljoin drops the last path segment unless the base ends with a slash.
        return value if value.endswith("/") else value + "/"

    @property
    def store_path(self) -> Path | None:
        """Directory of the embedded store, or None for an in-memory store."""
        if self.store == MEMORY:
            return None
        if self.store:
            return Path(self.store).expanduser().resolve()
        return self.project_root / "var" / "store"

    @property
    def state_path(self) -> Path | None:
        """The private state (``service.store.state``) that goes with the store: beside an embedded
        store's directory; per server for a remote one; in memory with an in-memory store."""
        if self.remote is not None:
            digest = hashlib.sha256(self.remote.encode()).hexdigest()[:16]
            return self.project_root / "var" / f"remote-{digest}.state.sqlite3"
        path = self.store_path
        return None if path is None else path.with_name(path.name + ".state.sqlite3")

    @property
    def dumps_path(self) -> Path:
        """Where dumps are built (``dumps_dir``, else ``<project_root>/var/dumps``)."""
        if self.dumps_dir is not None:
            return Path(self.dumps_dir).expanduser().resolve()
        return self.project_root / "var" / "dumps"

    @property
    def publisher(self) -> str:
        return self.publisher_iri or f"{self.base_iri}catalog#publisher"

    @property
    def remote_endpoints(self) -> RemoteEndpoints | None:
        if self.remote is None:
            return None
        return RemoteEndpoints(
            query=urljoin(self.remote, self.remote_query),
            update=urljoin(self.remote, self.remote_update),
            gsp=urljoin(self.remote, self.remote_gsp),
        )

    def graph_iri(self, name: str) -> str:
        """A named graph IRI (docs/architecture.md, "IRIs"): ``graph_iri("data/districts")``."""
        return f"{self.base_iri}graph/{name}"


def config_file_path() -> Path | None:
    """The config file in use: ``$MEENT_CONFIG`` (must exist) or ``./meent.toml`` if present."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_ENV} names {path}, which is not a file")
        return path
    local = Path.cwd() / CONFIG_FILE
    return local if local.is_file() else None


@lru_cache
def get_settings() -> Settings:
    """The process's settings; tests override the FastAPI dependency instead of this cache."""
    return Settings()
