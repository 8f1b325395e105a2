"""FastAPI dependencies shared by the routers: the database session and the clock.

`get_engine` and `get_clock` are plain functions (auth.py calls them directly). As route
dependencies, `engine_dependency` and `clock_dependency` do the same on the event loop: FastAPI
runs a sync dependency in its threadpool, a hop worth paying for database work but not for
reading app state (every pull page paid two).
"""

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
    """One session per request; routers commit explicitly (one transaction per push batch).
    Sync on purpose: closing a session returns its connection to the pool (a rollback)."""
    with Session(get_engine(request), expire_on_commit=False) as session:
        yield session


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


async def engine_dependency(request: Request) -> Engine:
    """`get_engine` without a threadpool hop."""
    return get_engine(request)


async def clock_dependency(request: Request) -> Callable[[], datetime]:
    """`get_clock` without a threadpool hop."""
    return get_clock(request)
