"""FastAPI dependencies shared by the routers: the database session and the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from fastapi import Request
from sqlalchemy import Engine
from sqlmodel import Session


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; routers commit explicitly (one transaction per push batch)."""
    with Session(get_engine(request), expire_on_commit=False) as session:
        yield session


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock
