"""The system APIs shipped with Callout: one YAML file per API in this folder.

A file holds an API as `ApiWrite` reads it, plus `requests` as `RequestWrite` reads them;
its name (without `.yaml`) is the API's stable `slug`. `sync()` brings the database in line
with the files: new ones are added, changed ones updated in place (requests matched by
name, so their ids stay), removed ones deleted. Client copies are their own rows and stay.
What a client's designer calls is never removed: the sync refuses (409), naming the designers,
to delete such an API or request, or to drop a parameter one maps.
"""

import hashlib
import json
from dataclasses import dataclass
from importlib import resources

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from callout.apis import mappers
from callout.apis import secret_fields as sf
from callout.apis.repository import SystemApiRepository
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.db.models import Api, Request, utcnow
from callout.designers.references import SystemUses
from callout.schemas import name_key


@dataclass(frozen=True)
class Entry:
    slug: str
    api: ApiWrite
    requests: list[RequestWrite]
    digest: str


class CatalogError(ValueError):
    """A catalogue file does not describe a valid API; says which file and what."""


def load() -> list[Entry]:
    entries = []
    for item in sorted(resources.files(__package__).iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            entries.append(parse(item.name.removesuffix(".yaml"), item.read_text("utf-8")))
    return entries


def parse(slug: str, text: str) -> Entry:
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise CatalogError(f"{slug}.yaml: expected a mapping at the top")
    requests_raw = raw.pop("requests", [])
    try:
        api = ApiWrite.model_validate(raw)
        requests = [RequestWrite.model_validate(r) for r in requests_raw]
    except ValidationError as error:
        raise CatalogError(f"{slug}.yaml: {error}") from None
    if api.service_id is not None:
        raise CatalogError(f"{slug}.yaml: a system API belongs to no service")
    canonical = json.dumps(
        [api.model_dump(mode="json"), [r.model_dump(mode="json") for r in requests]],
        sort_keys=True,
    )
    return Entry(slug, api, requests, hashlib.sha256(canonical.encode()).hexdigest())


def sync(session: Session, entries: list[Entry] | None = None) -> int:
    """Bring the stored system APIs in line with the catalogue; returns how many changed."""
    entries = load() if entries is None else entries
    stored = SystemApiRepository(session).by_slug()
    uses = SystemUses(session)
    changed = 0
    for entry in entries:
        api = stored.pop(entry.slug, None)
        if api is not None and api.catalog_digest == entry.digest:
            continue
        existing = {r.name_key: r for r in api.requests} if api is not None else {}
        if api is None:
            api = Api(client_id=None, slug=entry.slug)
            session.add(api)
        _apply(session, api, existing, entry, uses)
        changed += 1
    for gone in stored.values():
        uses.refuse_removal(f"system API {gone.name!r}", api_id=gone.id)
        session.delete(gone)
        changed += 1
    session.flush()
    return changed


def _apply(
    session: Session, api: Api, existing: dict[str, Request], entry: Entry, uses: SystemUses
) -> None:
    split = sf.SecretSplit(stored=set())
    api.headers = split.headers(entry.api.headers)
    api.authorization = split.authorization(entry.api.authorization)
    if split.new or split.problems:
        raise CatalogError(f"{entry.slug}.yaml: a system API ships no secrets")
    for column, value in mappers.api_columns(entry.api).items():
        setattr(api, column, value)
    api.catalog_digest, api.updated_at = entry.digest, utcnow()
    session.flush()
    for request in entry.requests:
        row = existing.pop(name_key(request.name), None)
        if row is None:
            row = Request(api_id=api.id)
            session.add(row)
        request_split = sf.SecretSplit(stored=set())
        headers = request_split.headers(request.headers)
        if request_split.new or request_split.problems:
            raise CatalogError(f"{entry.slug}.yaml: request {request.name}: no secrets here")
        if row.id is not None:
            what = f"request {request.name!r} of system API {api.name!r}"
            uses.refuse_lost_parameters(what, row.id, {p.name for p in request.parameters})
        for column, value in mappers.request_columns(request).items():
            setattr(row, column, value)
        row.headers, row.updated_at = headers, utcnow()
    for gone in existing.values():
        uses.refuse_removal(f"request {gone.name!r} of system API {api.name!r}", request_id=gone.id)
        session.delete(gone)
