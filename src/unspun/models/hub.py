"""Where models come from: local path, HF cache, the hub (unless offline), packaged fallbacks.

Offline mode (``--offline`` / ``UNSPUN_OFFLINE=1``) is enforced here for every model load: the
Hugging Face libraries are switched to offline too, so nothing that is not already on disk is
fetched, and a missing model fails at once with a one-line ``ModelUnavailable``.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from unspun.errors import ModelUnavailable

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_HF_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
# Other libraries' "phone home" switches, turned off in offline mode as well (none of them would
# carry article text, but offline means nothing leaves the machine).
_QUIET_VARS = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_DATASETS_OFFLINE": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
}

# Fail fast when the hub is unreachable instead of waiting for the default 10 s timeouts.
os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "3")
os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")

# Variables this module changed, with their previous values (switching offline off restores them).
_set_by_us: dict[str, str | None] = {}


def offline() -> bool:
    """True when the user asked that nothing contact the network (``--offline``/UNSPUN_OFFLINE)."""
    return os.environ.get("UNSPUN_OFFLINE", "").strip().lower() in _TRUE


def set_offline(value: bool = True) -> None:
    """Switch offline mode for this process, including in already imported HF libraries."""
    if value:
        os.environ["UNSPUN_OFFLINE"] = "1"
        for name, wanted in [*((n, "1") for n in _HF_OFFLINE_VARS), *_QUIET_VARS.items()]:
            if os.environ.get(name) != wanted:
                _set_by_us.setdefault(name, os.environ.get(name))
                os.environ[name] = wanted
    else:
        os.environ.pop("UNSPUN_OFFLINE", None)
        for name, previous in _set_by_us.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
        _set_by_us.clear()
    hub_reachable.cache_clear()
    _sync_hf_constants()


def _sync_hf_constants() -> None:
    """huggingface_hub reads HF_HUB_OFFLINE once at import; update the copy it already holds."""
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = any(
            os.environ.get(name, "").strip().lower() in _TRUE for name in _HF_OFFLINE_VARS
        )
        telemetry_off = os.environ.get("HF_HUB_DISABLE_TELEMETRY", "").strip().lower() in _TRUE
        constants.HF_HUB_DISABLE_TELEMETRY = telemetry_off


@lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """One quick TCP connect to the hub; the HF libraries themselves retry for over a minute.
    Never called in offline mode."""
    if offline():
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _looks_like_path(model_id: str) -> bool:
    """Hub ids look like ``org/name``; these can only be meant as paths on disk."""
    return model_id.startswith(("/", "./", "../", "~", ".\\", "..\\"))


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
    local = Path(model_id).expanduser()
    if local.is_dir():
        return load(str(local), True)
    if _looks_like_path(model_id):
        raise ModelUnavailable(f"model directory {model_id!r} does not exist")
    is_offline = offline()
    if is_offline:
        set_offline(True)  # UNSPUN_OFFLINE may have been set without going through the CLI
    try:
        return load(model_id, True)
    except Exception:  # noqa: BLE001, S110 - any loader error here means "not in the cache"
        pass
    hub_error = ""
    if not is_offline and hub_reachable():
        try:
            return load(model_id, False)
        except Exception as exc:  # noqa: BLE001 - reported below in one line
            hub_error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    fallback = (fallbacks or {}).get(model_id)
    path = fallback() if fallback else None
    if path:
        return load(path, True)
    if is_offline:
        raise ModelUnavailable(
            f"offline mode: model {model_id!r} is not cached locally; run once without --offline "
            "(or UNSPUN_OFFLINE unset) to download it, or pass a local model directory"
        )
    if hub_error:
        raise ModelUnavailable(f"model {model_id!r} could not be loaded from the hub ({hub_error})")
    raise ModelUnavailable(
        f"model {model_id!r} is not cached locally and the hub cannot be reached; "
        "download it once with network access or pass a local directory"
    )
