"""Where models come from: local path, HF cache, the hub (unless offline), packaged fallbacks."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from unspun.errors import ModelUnavailable

T = TypeVar("T")

# Fail fast when the hub is unreachable instead of waiting for the default 10 s timeouts.
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "3")
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")


def offline() -> bool:
    """True when the user asked that nothing contact the network (``--offline``/UNSPUN_OFFLINE)."""
    return os.environ.get("UNSPUN_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def set_offline(value: bool = True) -> None:
    if value:
        os.environ["UNSPUN_OFFLINE"] = "1"
        # The HF libraries read these at call time; set both so no library reaches the hub.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"


@lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """One quick TCP connect to the hub; the HF libraries themselves retry for over a minute."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve(
    model_id: str,
    load: Callable[[str, bool], T],
    *,
    fallbacks: dict[str, Callable[[], str | None]] | None = None,
) -> T:
    """Load ``model_id`` with ``load(name_or_path, local_files_only)``.

    Order: a local directory; the HF cache; the hub (skipped when offline); then a packaged
    fallback directory registered for that id. Raises ModelUnavailable with one line otherwise.
    """
    if Path(model_id).expanduser().is_dir():
        return load(str(Path(model_id).expanduser()), True)
    errors: list[str] = []
    try:
        return load(model_id, True)
    except Exception as exc:  # noqa: BLE001 - any loader error means "not in the cache"
        errors.append(f"cache: {type(exc).__name__}")
    if not offline() and hub_reachable():
        try:
            return load(model_id, False)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"hub: {type(exc).__name__}")
    fallback = (fallbacks or {}).get(model_id)
    path = fallback() if fallback else None
    if path:
        return load(path, True)
    where = "offline mode forbids the hub" if offline() else "the hub cannot be reached"
    raise ModelUnavailable(
        f"model {model_id!r} is not cached locally and {where}; "
        "download it once with network access or pass a local directory"
    )
