"""Invocations counted for Prometheus: a counter and a duration histogram, per label set.

Labels name where a call went and how it ended, never what it carried:

    client      the client's code
    api_id      the API's id, stable across renames
    api         the API's name
    request_id  the request's id
    request     the request's name
    mode        live, mock, or test (a traced call from `.../test`); dry runs are not counted:
                nothing is sent and nothing takes time worth watching
    outcome     success, failure or timeout
    reason      why a call did not succeed (status, timeout, circuit_open...), empty on success

Parameter values, context and headers never become labels, so no secret can.

With several worker processes (`callout serve --workers N`) each process writes its counts to
its own files in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multi-process mode, which it
chooses when it is first imported, so the variable must be set before the workers start), and
a scrape, answered by any one worker, adds up every worker's files. A worker that stopped keeps
its counts in the sum: counters never go back.
"""

from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from callout.invocations.schemas import Mode
from callout.runtime.executor import Outcome
from callout.runtime.plan import Plan

MEDIA_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the Prometheus text format, version 0.0.4
LABELS = ("client", "api_id", "api", "request_id", "request", "mode", "outcome", "reason")
# An invoke waits on an upstream: from a few milliseconds on loopback to a deadline of seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# This process's own instruments; not the library's global registry, whose process and GC
# collectors mean nothing summed over workers.
REGISTRY = CollectorRegistry()
INVOCATIONS = Counter(
    "callout_invocations",
    "Invocations of stored requests, by where they went and how they ended.",
    LABELS,
    registry=REGISTRY,
)
DURATION = Histogram(
    "callout_invocation_duration_seconds",
    "How long invocations took, from the call to its outcome.",
    LABELS,
    buckets=BUCKETS,
    registry=REGISTRY,
)

# 1 while this process hears the others' commits through Redis, 0 while Redis is lost; absent
# when CALLOUT_REDIS_URL is unset. One value per live worker (`pid` label) when several serve.
REDIS_CONNECTED = Gauge(
    "callout_redis_connected",
    "Whether this process is connected to Redis, by what it uses Redis for.",
    ("purpose",),
    registry=REGISTRY,
    multiprocess_mode="liveall",
)


Children = tuple[Counter, Histogram]
_CHILDREN: dict[tuple[str, ...], Children] = {}


def observe(client_code: str, plan: Plan, mode: Mode, traced: bool, outcome: Outcome) -> None:
    """Count one invocation (a dry run is not one)."""
    if mode == "dry_run":
        return
    labels = (
        client_code,
        str(plan.key.api_id),
        plan.api_name,
        str(plan.key.request_id),
        plan.request_name,
        "test" if traced else mode,
        outcome.outcome,
        outcome.reason or "",
    )
    # `labels()` checks and locks each time; a label set's instruments are kept instead.
    children = _CHILDREN.get(labels)
    if children is None:
        children = _CHILDREN[labels] = INVOCATIONS.labels(*labels), DURATION.labels(*labels)
    children[0].inc()
    children[1].observe(outcome.duration_ms / 1000)


def redis_connected(connected: bool, purpose: str = "invalidation") -> None:
    """Show whether Redis is in use: `invalidation`, commits heard by the other processes
    (`db/broadcast.py`); `runtime`, tokens, sessions and limits shared (`runtime/shared/`)."""
    REDIS_CONNECTED.labels(purpose).set(1 if connected else 0)


def exposition(directory: Path | None) -> bytes:
    """The text a scrape answers: this process's counts, or every worker's in `directory`."""
    if directory is None:
        return generate_latest(REGISTRY)
    merged = CollectorRegistry()
    MultiProcessCollector(merged, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def worker_stopped(directory: Path | None, pid: int) -> None:
    """Tell the shared directory a worker has gone (its counts stay in the sum)."""
    if directory is not None:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
