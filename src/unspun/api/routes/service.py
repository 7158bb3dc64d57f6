"""``GET /v1/detectors`` and ``GET /v1/health``: what this server runs and how loaded it is."""

from __future__ import annotations

from fastapi import APIRouter

from unspun.api.dependencies import LoadedChecker, State
from unspun.api.schemas import (
    DetectorEntry,
    DetectorsResponse,
    HealthResponse,
    LoadedDetector,
    QueueState,
)

router = APIRouter(tags=["service"])


@router.get("/v1/detectors", response_model=DetectorsResponse)
async def detectors(checker: LoadedChecker, state: State) -> DetectorsResponse:
    """The detector this server uses and the ones `unspun serve --detector` can load."""
    names = state.available
    if names is None:
        from unspun.detect.base import available_detectors

        names = await state.queue.run_cpu(available_detectors)
    return DetectorsResponse(
        loaded=LoadedDetector(
            name=checker.detector.name,
            version=checker.detector.version,
            calibrated=checker.calibration is not None,
            target_fpr=checker.config.target_fpr,
        ),
        available=[DetectorEntry(name=n, description=d) for n, d in names.items()],
    )


@router.get("/v1/health", response_model=HealthResponse)
async def health(checker: LoadedChecker, state: State) -> HealthResponse:
    """Liveness and load; answers even while the queue is full (needs no API key)."""
    from unspun import __version__

    settings = state.settings
    return HealthResponse(
        status="ok",
        version=__version__,
        detector=checker.detector.name,
        calibrated=checker.calibration is not None,
        index=checker.provenance is not None,
        auth=bool(settings.api_keys),
        queue=QueueState(
            pending=state.admission.pending,
            capacity=state.admission.capacity,
            waiting=state.queue.waiting,
        ),
        limits={
            "max_body_bytes": settings.max_body_bytes,
            "max_batch": settings.max_batch,
            "request_timeout_s": settings.request_timeout,
            "queue_wait_s": settings.queue_wait,
        },
    )
