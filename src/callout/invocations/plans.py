"""Compiled request plans, cached per client and request, checked against stored versions.

A write in this process drops the plans of every API it touched as it commits (`forget`), so
the next call here sees it. With Redis (CALLOUT_REDIS_URL) every other process hears of the
write and drops them too (`db/broadcast.py`). Without it, or while Redis is lost, another
process hears nothing: its cached plan is trusted for `ttl` seconds, after which the next
call checks the request's and its API's versions (one indexed query) and rebuilds the plan
only if either moved (`db/kept.py`). So an edit reaches every other process within `ttl`,
and the hot path touches the database at most once per `ttl` per request. Ids are never
reused, so a plan can never be taken for a newer object's.
"""

from sqlalchemy.orm import Session

from callout.apis import definitions
from callout.db.crypto import Keyring
from callout.db.engine import Changes
from callout.db.kept import Kept
from callout.db.models import Client
from callout.invocations.compile import compile_plan
from callout.runtime.plan import Plan, PlanKey


class PlanCache:
    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self._kept: Kept[tuple[int, int], Plan] = Kept(ttl, size)

    def cached(self, client: Client, api_id: int, request_id: int) -> Plan | None:
        """A plan still trusted (or being checked by another caller), without touching the
        database; None tells this caller to check it (`plan`)."""
        plan = self._kept.get((client.id, request_id))
        return plan if plan is not None and plan.key.api_id == api_id else None

    def forget(self, changes: Changes) -> None:
        """Drop the plans of the APIs a commit changed or deleted."""
        if changes.apis:
            self._kept.forget(lambda _, plan: plan.key.api_id in changes.apis)

    def clear(self) -> None:
        """Drop every plan (`db/broadcast.py`: messages from other processes may be lost)."""
        self._kept.clear()

    def plan(
        self, session: Session, keyring: Keyring, client: Client, api_id: int, request_id: int
    ) -> Plan:
        """The plan for this request as stored now; compiled again only if it changed."""
        try:
            return self._plan(session, keyring, client, api_id, request_id)
        except BaseException:
            self._kept.drop((client.id, request_id))  # gone, or unreadable for now
            raise

    def _plan(
        self, session: Session, keyring: Keyring, client: Client, api_id: int, request_id: int
    ) -> Plan:
        key = (client.id, request_id)
        generation = self._kept.generation
        current = definitions.versions(session, client, api_id, request_id)
        held = self._kept.held(key)
        if held is not None and held.key.api_id == api_id and _versions(held) == current:
            self._kept.confirm(key)
            return held
        loaded = definitions.load(session, keyring, client, api_id, request_id)
        plan_key = PlanKey(
            client.id,
            api_id,
            request_id,
            loaded.versions.api_version,
            loaded.versions.request_version,
        )
        plan = compile_plan(plan_key, loaded.api, loaded.request, unset=loaded.unset)
        self._kept.keep(key, plan, generation)
        return plan


def _versions(plan: Plan) -> definitions.Versions:
    return definitions.Versions(plan.key.api_version, plan.key.request_version)
