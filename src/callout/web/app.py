"""The FastAPI application: routers under /api/v1, problem+json errors, OpenAPI and docs,
and the built web UI at /."""

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

from callout import __doc__ as summary
from callout.apis.router import router as apis_router
from callout.audit.router import router as audit_router
from callout.clients.access_cache import AccessCache
from callout.clients.router import router as clients_router
from callout.db.admission import Admission
from callout.db.broadcast import Broadcast
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.designers.cache import DesignerCache
from callout.designers.router import router as designers_router
from callout.interchange.router import router as interchange_router
from callout.invocations import prometheus
from callout.invocations.refresh_tokens import DatabaseCredentials
from callout.invocations.router import callback_router
from callout.invocations.router import router as invocations_router
from callout.invocations.service import Runtime
from callout.settings import Settings, get_settings
from callout.web import metrics, openapi, problems, ui
from callout.web.body_limit import BodyLimit
from callout.web.fast_invoke import FastInvoke

API_PREFIX = "/api/v1"


def _settle_heap() -> None:
    """Keep the garbage collector off the invoke path once the server has started.

    What exists now (modules, the app, SQLAlchemy's and Pydantic's machinery: hundreds of
    thousands of objects) lives as long as the process: frozen, no collection scans it again.
    And a call allocates thousands of short-lived objects, so the default threshold (700)
    started a young collection several times per call. Measured with bench/invoke.py: p99
    from 167 ms to 62 ms with the freeze, and server CPU per call from 920 us to 690 us with
    the threshold as well.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    keys: KeySource | None = None,
) -> FastAPI:
    """The app; tests pass their own database and keys, the server builds them from settings."""
    settings = settings or get_settings()
    owns_database = database is None
    database = database or Database.from_settings(settings)
    keys = keys or settings.key_source()
    access = AccessCache(settings.access_ttl)
    designers = DesignerCache(settings.plan_ttl)
    admission = Admission(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime = await Runtime.start(
            settings, database, keys, DatabaseCredentials(database, keys)
        )
        listeners = [
            database.on_commit(runtime.plans.forget),
            database.on_commit(access.forget),
            database.on_commit(designers.forget),
        ]
        if settings.redis_url:
            runtime.broadcast = Broadcast(
                settings.redis_url,
                f"{settings.redis_namespace}:commits",
                [runtime.plans, access, designers],
                on_state=prometheus.redis_connected,
            )
            runtime.broadcast.start()
            listeners.append(database.on_commit(runtime.broadcast.committed))
        if owns_database:  # built by `callout serve`: this process serves
            _settle_heap()
        try:
            yield
        finally:
            for stop_listening in listeners:
                stop_listening()
            if runtime.broadcast is not None:
                await runtime.broadcast.close()
            await runtime.close()
            admission.close()
            if owns_database:
                database.dispose()
            prometheus.worker_stopped(settings.metrics_dir, os.getpid())

    # The docs' scripts are served from the fastapi-offline package: /docs works offline.
    app = FastAPIOffline(
        title="Callout",
        summary=summary,
        version="1",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.settings, app.state.database, app.state.keys = settings, database, keys
    app.state.admission = admission
    app.state.access = access
    app.state.designers = designers
    problems.install(app)
    app.add_middleware(
        BodyLimit, limit=settings.max_request_body, import_limit=settings.max_import_body
    )
    # Routes are matched in order: invoke, the route agent scripts call, is tried first.
    app.router.routes.append(FastInvoke(API_PREFIX))
    routers = (
        invocations_router,
        clients_router,
        apis_router,
        designers_router,
        interchange_router,
        callback_router,
        audit_router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(metrics.router)
    openapi.install(app)

    if ui.built(settings.ui_dir):
        ui.install(app, settings.ui_dir)  # last: it takes any GET no route above took
    else:

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/docs")

    return app
