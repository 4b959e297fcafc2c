"""The FastAPI application: routers under /api/v1, problem+json errors, OpenAPI and docs."""

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
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.invocations import prometheus
from callout.invocations.credentials import DatabaseCredentials
from callout.invocations.router import callback_router
from callout.invocations.router import router as invocations_router
from callout.invocations.service import Runtime
from callout.settings import Settings, get_settings
from callout.web import metrics, openapi, problems
from callout.web.body_limit import BodyLimit

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    keys: KeySource | None = None,
) -> FastAPI:
    """The app; tests pass their own database and keys, the server builds them from settings."""
    settings = settings or get_settings()
    owns_database = database is None
    database = database or Database.from_settings(settings)
    keys = keys or KeySource(settings)
    access = AccessCache(settings.access_ttl)
    admission = Admission(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime = await Runtime.start(
            settings, database, DatabaseCredentials(database, keys)
        )
        listeners = [database.on_commit(runtime.plans.forget), database.on_commit(access.forget)]
        try:
            yield
        finally:
            for stop_listening in listeners:
                stop_listening()
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
    problems.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_request_body)
    # Routes are matched in order: invoke, the route agent scripts call, is tried first.
    for router in (invocations_router, clients_router, apis_router, callback_router, audit_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(metrics.router)
    openapi.install(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
