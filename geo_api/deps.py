"""Request-scoped dependencies: the database session, the settings and "now"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo_api.settings import Settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; the endpoint commits its use case, errors roll back."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


async def get_now(request: Request) -> datetime:
    """The app's clock, read once per request (every step of a use case sees the same time).

    Async, so reading it costs no worker-thread hop on the hot routes.
    """
    return request.app.state.clock()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
