"""Fixtures for the real-process sync tests: services on 127.0.0.1 (a SQLite file, or a
PostgreSQL schema of their own), fault proxies, and laptops. Everything started here is
stopped here, by its own process id or group."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e_process.faultproxy import FaultProxy
from tests.e2e_process.harness import Laptop, Service, provision
from tests.server.conftest import PG_URL, postgres_or_skip

ServiceFactory = Callable[..., Service]


@pytest.fixture
def pg_url() -> Iterator[Callable[[], str]]:
    """Make PostgreSQL databases (a schema each, dropped afterwards); skips with the reason
    where PostgreSQL is absent, fails instead under SOFS_REQUIRE_POSTGRES=1."""
    import psycopg

    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    schemas: list[str] = []

    def make() -> str:
        postgres_or_skip()
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    yield make
    if schemas:
        with psycopg.connect(plain, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[ServiceFactory]:
    """`service_factory(name, database_url=None, workers=1, people=True)`: a provisioned
    service, not yet started (SQLite in its data dir unless a URL is given)."""
    made: list[Service] = []

    def make(
        name: str = "service",
        database_url: str | None = None,
        *,
        workers: int = 1,
        people: bool = True,
    ) -> Service:
        data_dir = tmp_path / name
        data_dir.mkdir(parents=True)
        url = database_url or f"sqlite:///{data_dir / 'sofs-server.db'}"
        if people:
            provision(url)
        service = Service(data_dir, url, workers=workers)
        made.append(service)
        return service

    yield make
    for service in made:
        service.kill()


@pytest.fixture
def service(service_factory: ServiceFactory) -> Service:
    """One provisioned single-worker service on SQLite, running."""
    return service_factory().start()


@pytest.fixture
def proxy_factory() -> Iterator[Callable[[Service], FaultProxy]]:
    made: list[FaultProxy] = []

    def make(upstream: Service) -> FaultProxy:
        proxy = FaultProxy(upstream.port).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


@pytest.fixture
def laptops(tmp_path: Path) -> Callable[..., Laptop]:
    """`laptops("alice")`: an enrolled laptop for that user (a data dir of its own)."""

    def make(name: str, folder: str | None = None) -> Laptop:
        return Laptop(name, tmp_path / (folder or f"laptop-{name}")).enrol()

    return make
