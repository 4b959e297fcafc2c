"""Export: a client's APIs as documents, and one API as a file of each format Callout writes.

A document names each secret the API holds and leaves its value out (`missing_secrets`), or
holds them all sealed under a passphrase (`Sealer`): stored secrets leave the vault only so.
"""

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from callout.apis import secret_fields as sf
from callout.apis import service as apis
from callout.apis.mappers import REQUEST_COLUMNS
from callout.apis.repository import ApiRepository
from callout.clients.repository import ServiceRepository
from callout.db.crypto import Keyring
from callout.db.models import Api, Client
from callout.db.secrets import Vault, api_owner, request_owner, stored_fields
from callout.interchange import curl, native, postman
from callout.interchange.options import ExportFormat
from callout.interchange.schemas import FORMAT, ApiDocument
from callout.interchange.sealing import Sealer

# Writers of one API as a file: a Callout file, a Postman v2.1 collection, cURL commands.
WRITERS: dict[ExportFormat, Callable[[ApiDocument], str]] = {
    "callout": native.dump,
    "postman": lambda document: json.dumps(postman.write(document), indent=2, ensure_ascii=False),
    "curl": curl.write,
}


def export_api(
    session: Session,
    keyring: Keyring,
    client: Client,
    api_id: int,
    sealer: Sealer | None = None,
) -> ApiDocument:
    """The client's API (or a system API) as a document: its secrets named as missing, or
    sealed by `sealer`."""
    api = apis.find_api(session, client, api_id, with_requests=True)
    return document_of(session, keyring, client, api, sealer)


def document_of(
    session: Session, keyring: Keyring, client: Client, api: Api, sealer: Sealer | None
) -> ApiDocument:
    owners = [api_owner(api.id), *(request_owner(r.id) for r in api.requests)]
    stored = stored_fields(session, client.id, owners)
    service = None
    if api.service_id is not None and api.client_id is not None:
        found = ServiceRepository(session, client).get(api.service_id)
        service = found.name if found is not None else None
    # Named as missing: the secrets left out, and those never entered (after an import
    # without them), so that each import asks for them again.
    declared = {api_owner(api.id): sf.declared(api.headers, api.authorization)}
    declared |= {request_owner(row.id): sf.declared(row.headers, {}) for row in api.requests}
    unset = {owner: fields - stored[owner] for owner, fields in declared.items()}
    requests = [
        {c: getattr(row, c) for c in REQUEST_COLUMNS}
        | {
            "headers": row.headers,
            "missing_secrets": sorted(stored[request_owner(row.id)] | unset[request_owner(row.id)]),
        }
        for row in api.requests
    ]
    values: dict[str, Any] = {
        "callout": FORMAT,
        "name": api.name,
        "description": api.description,
        "base_url": api.base_url,
        "type": api.type,
        "service": service,
        "headers": api.headers,
        "authorization": api.authorization,
        "missing_secrets": sorted(stored[api_owner(api.id)] | unset[api_owner(api.id)]),
        "requests": requests,
    }
    if sealer is not None and any(stored.values()):
        vault = Vault(session, keyring, client.id)
        sealed = {
            "api": vault.reveal_all(api_owner(api.id)),
            "requests": {
                row.name: vault.reveal_all(request_owner(row.id))
                for row in api.requests
                if stored[request_owner(row.id)]
            },
        }
        values["secrets"] = sealer.seal(api.name, sealed)
        values["missing_secrets"] = sorted(unset[api_owner(api.id)])
        for request, row in zip(requests, api.requests, strict=True):
            request["missing_secrets"] = sorted(unset[request_owner(row.id)])
    return ApiDocument.model_validate(values, context=native.STORED)


def export_library(
    session: Session, keyring: Keyring, client: Client, sealer: Sealer | None = None
) -> list[ApiDocument]:
    """The client's own APIs as documents, by name."""
    return [
        document_of(session, keyring, client, api, sealer)
        for api in ApiRepository(session, client).own_with_requests()
    ]
