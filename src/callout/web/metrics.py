"""`GET /metrics`: invocation counts and durations in the Prometheus text format.

A scrape needs a platform-admin key as its bearer token (Prometheus's `authorization`
setting): the labels name every client and its APIs, which only a platform admin may see
across clients.
"""

from fastapi import APIRouter, Response

from callout.invocations import prometheus
from callout.web.deps import PrincipalDep, SettingsDep

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Counters and histograms of invocations, every worker's summed.",
            "content": {prometheus.MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
def metrics(principal: PrincipalDep, settings: SettingsDep) -> Response:
    """Invocations by client, API, request, mode, outcome and reason, for Prometheus.

    A plain `def`: summing the workers' files reads the disk, in a worker thread."""
    principal.require("platform")
    return Response(prometheus.exposition(settings.metrics_dir), media_type=prometheus.MEDIA_TYPE)
