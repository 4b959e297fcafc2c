"""Backup and restore of a whole installation: every client with its services, its library,
its designers and its audit trail, as a folder of YAML files.

    callout-backup.yaml                  the format, the clients and their services
    <client>/apis/<api>.yaml             Callout files (`native`): secrets sealed or named
    <client>/designers/<designer>.yaml   designers, their calls by name (`designer_file`)
    <client>/audit.yaml                  the audit trail, oldest first (`audit_trail`)

API keys are left out (see `manifest`). A restore reads and checks every file before it
writes anything, then writes every client through the same services as an import, in the
caller's transaction, so a bad file changes nothing. It refuses a database that holds any
client: a backup gives back whole clients and is never mixed with what is there.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from callout.apis.repository import ApiRepository, RequestRepository, SystemApiRepository
from callout.clients import service as clients
from callout.clients.access import OPERATOR
from callout.clients.repository import ClientRepository, ServiceRepository
from callout.clients.schemas import ClientCreate
from callout.db.crypto import Keyring
from callout.db.models import Api, Client
from callout.designers import service as designers
from callout.designers.repository import DesignerRepository
from callout.errors import CalloutError, Conflict
from callout.interchange import archive, export, loading, native, service
from callout.interchange.backup import audit_trail, designer_file
from callout.interchange.backup.manifest import (
    BACKUP_FORMAT,
    MANIFEST,
    AuditRecord,
    AuditTrail,
    ClientEntry,
    Manifest,
    RestoredClient,
    validated,
)
from callout.interchange.sealing import Opener, Sealer
from callout.schemas import name_key

MAX_FILES = 100_000
# An API's id and its requests' ids, by name key: what a FUNCTION CALL's names resolve to.
Library = Mapping[str, tuple[int, Mapping[str, int]]]


def export_all(session: Session, keyring: Keyring, sealer: Sealer | None) -> dict[str, str]:
    """Every client's files, by their path in the backup folder; secrets named as missing,
    or sealed by `sealer`."""
    files: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for client in ClientRepository(session).all():
        services = ServiceRepository(session, client).all()
        entries.append(
            {
                "code": client.code,
                "name": client.name,
                "services": [{"name": s.name, "description": s.description} for s in services],
            }
        )
        library = export.export_library(session, keyring, client, sealer)
        for name, text in archive.named(library):
            files[f"{client.code}/apis/{name}"] = text
        service_names = {s.id: s.name for s in services}
        stored = DesignerRepository(session, client).all()
        names = _call_names(session, client, {c for d in stored for c in designer_file.calls(d)})
        for name, designer in zip(archive.file_names(d.name for d in stored), stored, strict=True):
            values = designer_file.document(
                designer, service_names.get(designer.service_id or 0), names
            )
            files[f"{client.code}/designers/{name}"] = native.text(values)
        events = [e.model_dump(mode="json") for e in audit_trail.records(session, client)]
        trail = {"callout_backup": BACKUP_FORMAT, "events": events}
        files[f"{client.code}/audit.yaml"] = native.text(trail)
    files[MANIFEST] = native.text({"callout_backup": BACKUP_FORMAT, "clients": entries})
    return files


def _call_names(
    session: Session, client: Client, calls: set[tuple[int, int]]
) -> dict[tuple[int, int], designer_file.CallNames]:
    apis = ApiRepository(session, client).among({api for api, _ in calls})
    requests = RequestRepository(session, client).among({request for _, request in calls})
    return {
        (api, request): (apis[api].name, requests[request].name, apis[api].client_id is None)
        for api, request in calls
    }


def read_folder(folder: Path) -> dict[str, bytes]:
    """A backup folder's files by their path in it (`acme/apis/crm.yaml`): the manifest and
    each client's APIs, designers and audit trail."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise loading.unreadable(str(folder), f"holds no {MANIFEST}: it is not a Callout backup")
    found = [
        *folder.glob("*/apis/*"),
        *folder.glob("*/designers/*"),
        *folder.glob("*/audit.yaml"),
    ]
    paths = [manifest, *sorted(p for p in found if p.is_file() and p.suffix in archive.SUFFIXES)]
    if len(paths) > MAX_FILES:
        raise loading.unreadable(str(folder), f"holds more than {MAX_FILES:,} files")
    files = {}
    for path in paths:
        if path.stat().st_size > loading.MAX_BYTES:
            raise loading.unreadable(str(path), f"is larger than {loading.MAX_BYTES:,} bytes")
        files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


@dataclass(frozen=True)
class _Checked:
    """One client's files, read and checked, ready to write."""

    entry: ClientEntry
    apis: list[service.File]
    designers: list[tuple[str, Any]]
    trail: list[AuditRecord]


def restore(
    session: Session, keyring: Keyring, files: Mapping[str, bytes], opener: Opener
) -> list[RestoredClient]:
    """Write every client of a backup into a database that holds none (see the module's
    docstring); `files` as `read_folder` gives them."""
    if MANIFEST not in files:
        raise loading.unreadable(MANIFEST, "is missing: the files are not a Callout backup")
    manifest = validated(Manifest, loading.parse(files[MANIFEST], MANIFEST), MANIFEST)
    present = ClientRepository(session).all()
    if present:
        named = ", ".join(repr(c.code) for c in present[:5])
        raise Conflict(
            f"the database holds {len(present)} client(s) ({named}): a restore writes into "
            "one with none, such as a new data dir, and never mixes a backup with what is there"
        )
    codes = {entry.code for entry in manifest.clients}
    for path in files:
        if path != MANIFEST and path.split("/")[0] not in codes:
            raise loading.unreadable(path, f"belongs to no client of {MANIFEST}")
    system = _system_library(session)
    checked = [_check(entry, files, opener, system) for entry in manifest.clients]
    return [_write(session, keyring, one, opener, system) for one in checked]


def _system_library(session: Session) -> dict[str, tuple[int, dict[str, int]]]:
    return {
        api.name_key: (api.id, {r.name_key: r.id for r in api.requests})
        for api in SystemApiRepository(session).by_slug().values()
    }


def _check(
    entry: ClientEntry, files: Mapping[str, bytes], opener: Opener, system: Library
) -> _Checked:
    """Read every file of the client and check what needs no database: the API files as an
    import reads them, their sealed secrets open, each designer names services and requests
    the backup (or the installation's system APIs) has, the audit trail reads."""
    prefix = f"{entry.code}/"
    apis = [service.File(p, d) for p, d in files.items() if p.startswith(prefix + "apis/")]
    services = {name_key(s.name): 1 for s in entry.services}  # ids to come
    library: dict[str, tuple[int, dict[str, int]]] = {}
    for file in apis:
        for doc in service.convert(file, "callout").documents:
            if doc.service is not None and name_key(doc.service) not in services:
                raise loading.unreadable(
                    file.source, f"names no service of the client in {MANIFEST}", "service"
                )
            if name_key(doc.name) in library:
                raise loading.unreadable(
                    file.source, f"another file of the client is an API {doc.name!r}", "name"
                )
            library[name_key(doc.name)] = (1, {name_key(r.name): 1 for r in doc.requests})
            if doc.secrets is not None:
                opener.open(file.source, doc.name, doc.secrets)
    designers: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for path, data in files.items():
        if path.startswith(prefix + "designers/"):
            values = loading.parse(data, path)
            checked = designer_file.resolve(values, path, services, _target(library, system))
            if name_key(checked.name) in seen:
                raise loading.unreadable(
                    path, f"another file of the client is a designer {checked.name!r}", "name"
                )
            seen.add(name_key(checked.name))
            designers.append((path, values))
    audit = prefix + "audit.yaml"
    trail = (
        validated(AuditTrail, loading.parse(files[audit], audit), audit) if audit in files else None
    )
    return _Checked(entry, apis, designers, trail.events if trail else [])


def _target(library: Library, system: Library) -> designer_file.Target:
    """How a FUNCTION CALL's names become ids: the client's own API, or a system API."""

    def ids(api: str, request: str, is_system: bool) -> tuple[int, int] | str:
        found = (system if is_system else library).get(name_key(api))
        if found is None:
            where = "this installation's system APIs" if is_system else "the client's backup"
            return f"there is no API {api!r} in {where}"
        request_id = found[1].get(name_key(request))
        if request_id is None:
            return f"API {api!r} has no request {request!r}"
        return found[0], request_id

    return ids


def _write(
    session: Session, keyring: Keyring, checked: _Checked, opener: Opener, system: Library
) -> RestoredClient:
    entry = checked.entry
    made = clients.create_client(session, OPERATOR, ClientCreate(code=entry.code, name=entry.name))
    client = clients.visible_client(session, OPERATOR, made.code)
    restored = audit_trail.Restored(system_apis={key: ids[0] for key, ids in system.items()})
    for written in entry.services:
        created = clients.create_service(session, OPERATOR, client, written)
        restored.services[name_key(created.name)] = created.id
    report = service.import_files(
        session, keyring, OPERATOR, client, checked.apis, format="callout", passphrase=opener
    )
    library = {
        api.name_key: _ids(api) for api in ApiRepository(session, client).own_with_requests()
    }
    for key, (api_id, requests) in library.items():
        restored.apis[key] = api_id
        restored.requests |= {(api_id, request): id_ for request, id_ in requests.items()}
    for source, values in checked.designers:
        data = designer_file.resolve(values, source, restored.services, _target(library, system))
        try:
            created_designer = designers.create_designer(session, OPERATOR, client, data)
        except CalloutError as error:
            raise error.at(f"{source}: ") from None
        restored.designers[name_key(created_designer.name)] = created_designer.id
    audit_trail.put_back(session, client, checked.trail, restored)
    return RestoredClient(
        code=client.code,
        services=len(entry.services),
        apis=len(report.apis),
        requests=sum(api.requests for api in report.apis),
        designers=len(checked.designers),
        audit_events=len(checked.trail),
        missing_secrets=[f"{a.name}: {m}" for a in report.apis for m in a.missing_secrets],
    )


def _ids(api: Api) -> tuple[int, dict[str, int]]:
    return api.id, {request.name_key: request.id for request in api.requests}
