"""A client's audit trail in a backup: written out as it was, and put back with its
original times, each event's object id mapped to the restored object.

Ids differ between installations. Each object the trail names is found by its type and
the name its latest event gives (a request by that name under its restored API), and every
event of that object maps to it, so events from before a rename follow it too.

An object that is gone (its latest event a delete, an API deleted with its requests, an API
key, which a backup leaves out) cannot keep the id it had: here that id is another object's,
or will be. Its events get an id taken from its table's counter instead (`db.ids`), which no
object has and none will get, the same one for all of them: its trail stays whole, under its
name, and never shows in a live object's. The API ids of events' details (a request's API, a
copy's source, even a system API this installation lacks) map the same way.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from callout.audit.repository import AuditRepository
from callout.db import ids as table_ids
from callout.db.models import AuditEvent, Base, Client
from callout.interchange.backup.manifest import AuditRecord
from callout.schemas import name_key

Key = tuple[str, int]  # (object type, id)
TABLES = {  # where each type of object the trail names takes its ids
    "api": "apis",
    "request": "requests",
    "service": "services",
    "api_key": "api_keys",
    "designer": "designers",
}


@dataclass
class Restored:
    """A restored client's objects by name key: what the trail's objects map to."""

    services: dict[str, int] = field(default_factory=dict)
    apis: dict[str, int] = field(default_factory=dict)
    designers: dict[str, int] = field(default_factory=dict)
    requests: dict[tuple[int, str], int] = field(default_factory=dict)  # (API id, name key)
    system_apis: Mapping[str, int] = field(default_factory=dict)


def records(session: Session, client: Client) -> list[AuditRecord]:
    """The client's audit trail, oldest first."""
    rows = AuditRepository(session, client).oldest_first()
    return [AuditRecord.model_validate(row, from_attributes=True) for row in rows]


def put_back(
    session: Session, client: Client, trail: Sequence[AuditRecord], restored: Restored
) -> None:
    """Replace the client's trail (what the restore's own writes recorded) with `trail`."""
    ids = _id_map(trail, restored)
    ids |= _gone(session, trail, ids, restored)
    AuditRepository(session, client).forget_all()
    session.add_all(
        AuditEvent(
            client_id=client.id,
            at=record.at,
            actor=record.actor,
            action=record.action,
            object_type=record.object_type,
            object_id=ids[(record.object_type, record.object_id)],
            object_name=record.object_name,
            changed=record.changed,
            detail=_detail(record, ids, restored),
        )
        for record in trail
    )
    session.flush()


def _id_map(trail: Sequence[AuditRecord], restored: Restored) -> dict[Key, int]:
    latest: dict[Key, AuditRecord] = {}
    for record in trail:
        latest[(record.object_type, record.object_id)] = record
    named: dict[str, dict[str, int]] = {
        "service": restored.services,
        "api": restored.apis,
        "designer": restored.designers,
    }
    ids: dict[Key, int] = {}
    for key, record in latest.items():  # APIs before requests: a request maps under its API
        found = named.get(record.object_type, {}).get(name_key(record.object_name))
        if record.action != "delete" and found is not None:
            ids[key] = found
    for key, record in latest.items():
        api = ids.get(("api", record.detail.get("api", 0)))
        if record.object_type == "request" and record.action != "delete" and api is not None:
            found = restored.requests.get((api, name_key(record.object_name)))
            if found is not None:
                ids[key] = found
    return ids


def _gone(
    session: Session, trail: Sequence[AuditRecord], ids: Mapping[Key, int], restored: Restored
) -> dict[Key, int]:
    """Ids for the objects the trail names that were not restored, new in their tables."""
    named: set[Key] = {(r.object_type, r.object_id) for r in trail}
    named |= {("api", api) for record in trail for api in _apis(record, restored)}
    gone: dict[str, list[int]] = {}
    for object_type, old in sorted(named - ids.keys()):  # in the order they were created
        gone.setdefault(object_type, []).append(old)
    new: dict[Key, int] = {}
    for object_type, olds in gone.items():
        table = Base.metadata.tables[TABLES[object_type]]
        taken = table_ids.reserve(session, table, len(olds))
        new |= {(object_type, old): id_ for old, id_ in zip(olds, taken, strict=True)}
    return new


def _apis(record: AuditRecord, restored: Restored) -> list[int]:
    """The old ids of the APIs the event's detail names: a request's API, a copy's source
    (unless a system API that this installation has)."""
    apis = [record.detail.get("api")]
    if _system_api(record, restored) is None:
        apis.append(record.detail.get("from_api"))
    return [api for api in apis if isinstance(api, int)]


def _system_api(record: AuditRecord, restored: Restored) -> int | None:
    """The system API a copy was made from, found here by its name, if it was one."""
    if not record.detail.get("from_system"):
        return None
    return restored.system_apis.get(name_key(str(record.detail.get("from_name", ""))))


def _detail(record: AuditRecord, ids: Mapping[Key, int], restored: Restored) -> dict[str, Any]:
    """The event's detail, the API ids it names mapped as its object's are."""
    detail = dict(record.detail)
    if isinstance(detail.get("api"), int):  # a request's API
        detail["api"] = ids[("api", detail["api"])]
    if isinstance(detail.get("from_api"), int):  # a copy's source
        found = _system_api(record, restored)
        detail["from_api"] = ids[("api", detail["from_api"])] if found is None else found
    return detail
