"""A designer in a backup: its fields as saved, with its service by name and each FUNCTION
CALL naming its API and request instead of their ids, which a new installation gives anew.

    - kind: function_call
      api: Customer CRM      # the client's own API; with `system: true`, a system API
      request: Get customer
      parameters: [{name: customerId, path: call.ani, value: null}]
"""

import copy
from collections.abc import Callable, Mapping
from typing import Any

from callout.db.models import Designer
from callout.designers import mappers
from callout.designers.schemas import DesignerWrite
from callout.interchange import loading
from callout.interchange.backup.manifest import validated
from callout.schemas import name_key

# A call's API and request by name: (API, request, whether a system API).
CallNames = tuple[str, str, bool]
# The ids a call's names stand for, or a message saying which name is unknown.
Target = Callable[[str, str, bool], tuple[int, int] | str]


def document(
    designer: Designer, service: str | None, names: Mapping[tuple[int, int], CallNames]
) -> dict[str, Any]:
    """The designer as its backup file holds it; `names` gives each (API id, request id)
    it calls by name."""
    values = mappers.read(designer).model_dump(mode="json", include=set(mappers.COLUMNS))
    for action in _function_calls(values):
        api, request, system = names[(action.pop("api_id"), action.pop("request_id"))]
        named = {"kind": action.pop("kind"), "api": api, "request": request}
        rest = dict(action)
        action.clear()  # the names first, as a person reads the call
        action.update(named | ({"system": True} if system else {}) | rest)
    return {
        "name": values["name"],
        "description": values["description"],
        "service": service,
        "pages": values["pages"],
        "events": values["events"],
    }


def resolve(data: Any, source: str, services: Mapping[str, int], target: Target) -> DesignerWrite:
    """The designer a backup file describes, its names turned into this installation's
    ids (`services` by name key; `target` for each call); or an error naming the file, the
    place in it and the rule."""
    if not isinstance(data, dict):
        raise loading.unreadable(source, "is not a designer: a mapping of name, pages and events")
    values = copy.deepcopy(data)
    service = values.pop("service", None)
    if service is not None:
        if not isinstance(service, str) or name_key(service) not in services:
            raise loading.unreadable(
                source, "names no service of the client in callout-backup.yaml", "service"
            )
        values["service_id"] = services[name_key(service)]
    for where, action in _located_calls(values):
        api, request = action.pop("api", None), action.pop("request", None)
        system = action.pop("system", False)
        if not isinstance(api, str) or not isinstance(request, str) or system not in (True, False):
            raise loading.unreadable(
                source, "a FUNCTION CALL names its `api` and `request` by name", where
            )
        found = target(api, request, system)
        if isinstance(found, str):
            raise loading.unreadable(source, found, where)
        action["api_id"], action["request_id"] = found
    return validated(DesignerWrite, values, source)


def calls(designer: Designer) -> set[tuple[int, int]]:
    """The (API id, request id) of each FUNCTION CALL of a stored designer."""
    return {(a["api_id"], a["request_id"]) for a in _function_calls({"events": designer.events})}


def _function_calls(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for _, action in _located_calls(values)]


def _located_calls(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each FUNCTION CALL action of a designer's values, with its place, e.g.
    `events[0].conditions[1].actions[2]`; what is not a list or a mapping is passed over,
    for the schema to refuse."""
    found = []
    for e, event in _items(values.get("events")):
        for c, condition in _items(event.get("conditions")):
            for a, action in _items(condition.get("actions")):
                if action.get("kind") == "function_call":
                    found.append((f"events[{e}].conditions[{c}].actions[{a}]", action))
    return found


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]
