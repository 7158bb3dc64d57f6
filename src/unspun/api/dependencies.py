"""What the routes need from the running service, reached through FastAPI dependencies: the loaded
checker, the work queue, the limits. Tests swap any of them with ``app.dependency_overrides``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from unspun.api.fetching import UrlFetcher
from unspun.api.queue import Admission, CheckQueue
from unspun.api.settings import ServiceSettings
from unspun.pipeline import Checker


@dataclass
class ServiceState:
    """One server process's loaded state, built once by ``create_app`` (models load before any
    request) and kept on ``app.state.service``."""

    checker: Checker
    settings: ServiceSettings
    queue: CheckQueue
    admission: Admission
    # The page and its assets, loaded once: requests choose among these names and never build a
    # path, so no request can reach any other file.
    static: dict[str, tuple[bytes, str]]
    # Registry names -> descriptions for GET /v1/detectors; None: ask the registry.
    available: dict[str, str] | None = None
    # Fetches of {"url": ...} requests (rate limit, address checks); None: fetching is off.
    url_fetcher: UrlFetcher | None = None


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


def get_checker(state: Annotated[ServiceState, Depends(get_state)]) -> Checker:
    """The checker that answers requests (override this to serve another one)."""
    return state.checker


def get_queue(state: Annotated[ServiceState, Depends(get_state)]) -> CheckQueue:
    return state.queue


def get_settings(state: Annotated[ServiceState, Depends(get_state)]) -> ServiceSettings:
    return state.settings


def get_url_fetcher(state: Annotated[ServiceState, Depends(get_state)]) -> UrlFetcher | None:
    return state.url_fetcher


def client_of(request: Request) -> str:
    """The client a rate limit counts against: its address (a proxy in front makes all clients
    one)."""
    return request.client.host if request.client is not None else "unknown"


State = Annotated[ServiceState, Depends(get_state)]
Fetcher = Annotated[UrlFetcher | None, Depends(get_url_fetcher)]
LoadedChecker = Annotated[Checker, Depends(get_checker)]
Queue = Annotated[CheckQueue, Depends(get_queue)]
Settings = Annotated[ServiceSettings, Depends(get_settings)]
