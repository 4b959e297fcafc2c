"""Compiled request plans, cached per client and request, checked against stored versions.

A write in this process drops the plans of every API it touched as it commits (`forget`), so
the next call here sees it. Another process hears nothing: its cached plan is trusted for
`ttl` seconds, after which the next call checks the request's and its API's versions (one
indexed query) and rebuilds the plan only if either moved. So an edit reaches every other
process within `ttl`, and the hot path touches the database at most once per `ttl` per
request. Ids are never reused, so a plan can never be taken for a newer object's.

When a plan's `ttl` has passed, one caller checks it while the others go on with it for the
moment the check takes (at most `CHECK_GRACE` seconds), so calls in flight do not all queue
for the same check.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

from sqlalchemy.orm import Session

from callout.apis import definitions
from callout.db.crypto import Keyring
from callout.db.engine import Changes
from callout.db.models import Client
from callout.invocations.compile import compile_plan
from callout.runtime.plan import Plan, PlanKey

CHECK_GRACE = 5.0


@dataclass
class _Entry:
    plan: Plan
    api_id: int
    checked: float
    checking_until: float = 0.0  # a caller is checking this plan until then


class PlanCache:
    def __init__(self, ttl: float = 2.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Moves with every `forget`: a plan compiled from what was read before a write
        # committed is returned to its caller but not kept.
        self._generation = 0

    def cached(self, client: Client, api_id: int, request_id: int) -> Plan | None:
        """A plan still within its ttl (or being checked by another caller), without
        touching the database; None tells this caller to check it (`plan`)."""
        now = monotonic()
        with self._lock:
            entry = self._entries.get((client.id, request_id))
            if entry is None or entry.api_id != api_id:
                return None
            if now - entry.checked >= self.ttl and now >= entry.checking_until:
                entry.checking_until = now + CHECK_GRACE
                return None
            self._entries.move_to_end((client.id, request_id))
            return entry.plan

    def forget(self, changes: Changes) -> None:
        """Drop the plans of the APIs a commit changed or deleted."""
        api_ids = changes.apis
        if not api_ids:
            return
        with self._lock:
            self._generation += 1
            for key in [k for k, entry in self._entries.items() if entry.api_id in api_ids]:
                del self._entries[key]

    def plan(
        self, session: Session, keyring: Keyring, client: Client, api_id: int, request_id: int
    ) -> Plan:
        """The plan for this request as stored now; compiled again only if it changed."""
        try:
            return self._plan(session, keyring, client, api_id, request_id)
        except BaseException:
            with self._lock:  # gone, or unreadable for now: nobody goes on with the old plan
                self._entries.pop((client.id, request_id), None)
            raise

    def _plan(
        self, session: Session, keyring: Keyring, client: Client, api_id: int, request_id: int
    ) -> Plan:
        with self._lock:
            generation = self._generation
        current = definitions.versions(session, client, api_id, request_id)
        with self._lock:
            entry = self._entries.get((client.id, request_id))
        if entry is not None and entry.api_id == api_id and _versions(entry.plan) == current:
            entry.checked, entry.checking_until = monotonic(), 0.0
            return entry.plan
        loaded = definitions.load(session, keyring, client, api_id, request_id)
        key = PlanKey(
            client.id,
            api_id,
            request_id,
            loaded.versions.api_version,
            loaded.versions.request_version,
        )
        plan = compile_plan(key, loaded.api, loaded.request)
        with self._lock:
            if generation != self._generation:
                return plan
            self._entries[(client.id, request_id)] = _Entry(plan, api_id, monotonic())
            self._entries.move_to_end((client.id, request_id))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return plan


def _versions(plan: Plan) -> definitions.Versions:
    return definitions.Versions(plan.key.api_version, plan.key.request_version)
