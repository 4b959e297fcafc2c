"""Import and export: files of any format Callout reads become API documents, and documents
are written into a client's library through the same services as REST, in one transaction.

An import reads and checks every file before it writes anything, then writes every API and
request; a file that breaks a rule raises, naming the file, the place in it and the rule, and
the caller's transaction rolls back, so a bad import changes nothing. A dry run does the
same writes in a savepoint it rolls back: its report is the one a real import would give.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session

from callout.apis import names, request_service
from callout.apis import service as apis
from callout.apis.mappers import REQUEST_COLUMNS
from callout.apis.repository import ApiRepository
from callout.apis.schemas import ApiRead, ApiWrite, RequestWrite
from callout.clients import service as clients
from callout.clients.access import Principal
from callout.clients.repository import ServiceRepository
from callout.clients.schemas import ServiceWrite
from callout.db.crypto import Keyring
from callout.db.models import Client
from callout.errors import CalloutError, Conflict, FieldProblem
from callout.interchange import curl, loading, native, openapi, postman
from callout.interchange.options import Clash, Format
from callout.interchange.schemas import (
    ApiDocument,
    Converted,
    ImportedApi,
    ImportReport,
    RequestDocument,
)
from callout.interchange.sealing import Opener
from callout.schemas import name_key

# How REST spells the clash option, in the hint a refused clash gives: its query parameter.
CLASH_OPTION = "clash={}"

READERS: dict[Format, Callable[[Any, str], Converted]] = {
    "callout": native.read,
    "openapi": openapi.read,
    "postman": postman.read,
}


@dataclass(frozen=True)
class File:
    """One file to import: its name (for errors and the report) and its bytes."""

    source: str
    data: bytes


def convert(file: File, format: Format | None = None) -> Converted:
    """The APIs a file describes, in the format given or the one it is recognised as."""
    if format == "curl" or (format is None and _looks_like_curl(file.data)):
        return curl.read(loading.text_of(file.data, file.source), file.source)
    data = loading.parse(file.data, file.source)
    found = format or detect(data, file.source)
    return READERS[found](data, file.source)


def _looks_like_curl(data: bytes) -> bool:
    """A command line, or a script of them, its first words after any comment lines."""
    for line in data.lstrip().splitlines():
        if not line.lstrip().startswith(b"#") and line.strip():
            return line.lstrip()[:5] in (b"curl", b"curl ", b"curl\t", b"curl\\")
    return False


def detect(data: Any, source: str) -> Format:
    """Which format a parsed file is in, by the keys each one must have."""
    if isinstance(data, dict):
        if "callout" in data:
            return "callout"
        if "openapi" in data or "swagger" in data:
            return "openapi"
        info = data.get("info")
        if isinstance(info, dict) and ("_postman_id" in info or "schema" in info):
            return "postman"
        if "requests" in data and "order" in data:  # Postman's v1: its reader says so
            return "postman"
    raise loading.unreadable(
        source,
        "is not a Callout file, a Postman collection, an OpenAPI description or a cURL command",
    )


def import_files(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    files: Sequence[File],
    *,
    format: Format | None = None,
    clash: Clash = "fail",
    dry_run: bool = False,
    passphrase: str | Callable[[], str] | Opener | None = None,
    progress: Callable[[int, int], None] | None = None,
    clash_option: str = CLASH_OPTION,
) -> ImportReport:
    """Read every file, then write every API it describes (see the module's docstring).

    `clash` says what to do with an API whose name the library (or an earlier file) has:
    fail (409, naming each one), skip it, or rename it "NAME (2)"; a refusal's hint names
    the other choices as `clash_option` spells the option (REST's `clash={}`, the CLI's
    `--clash {}`). `progress` is told, after each API, how many requests of how many are
    written, for a progress bar. An `Opener` given as `passphrase` keeps the keys it has
    derived, so a restore of many clients derives one.
    """
    principal.require("editor")
    converted = [(file.source, convert(file, format)) for file in files]
    return write_all(
        session,
        keyring,
        principal,
        client,
        converted,
        clash=clash,
        dry_run=dry_run,
        passphrase=passphrase,
        progress=progress,
        clash_option=clash_option,
    )


def write_all(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    client: Client,
    converted: Sequence[tuple[str, Converted]],
    *,
    clash: Clash = "fail",
    dry_run: bool = False,
    passphrase: str | Callable[[], str] | Opener | None = None,
    progress: Callable[[int, int], None] | None = None,
    clash_option: str = CLASH_OPTION,
) -> ImportReport:
    """Write the documents read from files (by source), as `import_files` does."""
    principal.require("editor")
    opener = passphrase if isinstance(passphrase, Opener) else Opener(passphrase)
    documents = [
        (source, doc, _opened(opener, source, doc))
        for source, found in converted
        for doc in found.documents
    ]
    wanted = [(source, doc.name) for source, doc, _ in documents]
    chosen = _names(session, client, wanted, clash, clash_option)
    writer = _Writer(session, keyring, principal, client, clash)
    total, done = sum(len(doc.requests) for _, doc, _ in documents), 0
    with _undone(session) if dry_run else nullcontext():
        for (source, doc, values), name in zip(documents, chosen, strict=True):
            writer.write(source, doc, values, name)
            done += len(doc.requests)
            if progress is not None:
                progress(done, total)
    return ImportReport(
        dry_run=dry_run,
        formats=sorted({found.format for _, found in converted}),
        apis=_without_ids(writer.report) if dry_run else writer.report,
        services_created=writer.services_created,
        notes=[note for _, found in converted for note in found.notes],
    )


def _without_ids(report: list[ImportedApi]) -> list[ImportedApi]:
    """A dry run's report: its ids were never committed, and a real import may give others."""
    return [api.model_copy(update={"id": None}) for api in report]


@contextmanager
def _undone(session: Session) -> Iterator[None]:
    """Whatever is written inside is rolled back, as it would be on an error."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def _opened(opener: Opener, source: str, doc: ApiDocument) -> dict[str, Any]:
    return opener.open(source, doc.name, doc.secrets) if doc.secrets else {}


def _names(
    session: Session,
    client: Client,
    wanted: list[tuple[str, str]],
    clash: Clash,
    clash_option: str = CLASH_OPTION,
) -> list[str | None]:
    """The name each API is written under (None: skipped), as the library is now; with
    `fail`, every clash is named at once, with the library's API or with the API of this
    import that has the name first."""
    library = ApiRepository(session, client).own_name_keys()
    imported: dict[str, tuple[str, str]] = {}  # name key -> (source, name), first come
    chosen: list[str | None] = []
    clashes = []
    for source, name in wanted:
        key = name_key(name)
        taken = key in library or key in imported
        if taken and clash == "fail":
            if key in library:
                message = f"an API named {name!r} exists already"
            else:
                first_source, first_name = imported[key]
                message = (
                    f"an API named {name!r} clashes with {first_name!r} from {first_source} "
                    "in this import"
                )
            clashes.append(FieldProblem(f"{source}: name", message))
        chosen.append(None if taken and clash == "skip" else name)
        imported.setdefault(key, (source, name))
    if clashes:
        choices = " or ".join(clash_option.format(choice) for choice in ("skip", "rename"))
        raise Conflict.of(clashes, f" (import with {choices} to go on)")
    return chosen


class _Writer:
    """Writes documents through the API and request services, keeping the report."""

    def __init__(
        self,
        session: Session,
        keyring: Keyring,
        principal: Principal,
        client: Client,
        clash: Clash,
    ) -> None:
        self.session, self.keyring, self.principal, self.client = (
            session,
            keyring,
            principal,
            client,
        )
        self.clash = clash
        self.taken: set[str] = set()  # names this import has written
        self.report: list[ImportedApi] = []
        self.services_created: list[str] = []

    def write(
        self, source: str, doc: ApiDocument, secrets: dict[str, Any], name: str | None
    ) -> None:
        missing = _missing(doc, secrets)
        if name is None:
            self.report.append(
                ImportedApi(
                    source=source,
                    name=doc.name,
                    action="skipped",
                    id=None,
                    requests=len(doc.requests),
                    missing_secrets=[],
                )
            )
            return
        api_secrets: dict[str, str] = secrets.get("api", {})
        data = ApiWrite(
            name=name,
            description=doc.description,
            base_url=doc.base_url,
            type=doc.type,
            service_id=self._service(source, doc.service),
            headers=[_header(h, api_secrets) for h in doc.headers],
            authorization=doc.authorization.model_copy(
                update={
                    field.removeprefix("authorization."): SecretStr(value)
                    for field, value in api_secrets.items()
                    if field.startswith("authorization.")
                }
            ),
        )

        def create(chosen: str) -> ApiRead:
            named = data.model_copy(update={"name": chosen})
            return apis.create_api(
                self.session, self.keyring, self.principal, self.client, named, incomplete=True
            )

        try:
            if self.clash == "rename":
                names.hold(self.session, self.client.id, name_key(doc.name))
                api = create(self._free(doc.name))
            else:
                api = create(name)
        except CalloutError as error:
            raise error.at(f"{source}: ") from None
        self.taken.add(name_key(api.name))
        name = api.name
        request_secrets: dict[str, dict[str, str]] = secrets.get("requests", {})
        written = [_request(r, request_secrets.get(r.name, {})) for r in doc.requests]
        try:
            request_service.create_requests(
                self.session,
                self.keyring,
                self.principal,
                self.client,
                api.id,
                written,
                incomplete=True,
            )
        except CalloutError as error:
            raise error.at(f"{source}: requests") from None
        self.report.append(
            ImportedApi(
                source=source,
                name=name,
                action="created" if name == doc.name else "renamed",
                id=api.id,
                requests=len(doc.requests),
                missing_secrets=missing,
            )
        )

    def _free(self, base: str) -> str:
        """The first free name "BASE (N)", as the library and this import have them now."""
        taken = ApiRepository(self.session, self.client).name_keys_like(name_key(base))
        return names.unique_name(base, taken | self.taken, names.COPY_NUMBERING)

    def _service(self, source: str, name: str | None) -> int | None:
        """The service's id, created when the client has none of that name."""
        if name is None:
            return None
        found = ServiceRepository(self.session, self.client).by_name_key(name_key(name))
        if found is not None:
            return found.id
        try:
            created = clients.create_service(
                self.session, self.principal, self.client, ServiceWrite(name=name)
            )
        except CalloutError as error:
            raise error.at(f"{source}: service") from None
        self.services_created.append(created.name)
        return created.id


def _request(request: RequestDocument, secrets: dict[str, str]) -> RequestWrite:
    """A request as it is written, its sealed header values put back."""
    fields = request.model_dump(include=set(REQUEST_COLUMNS))
    return RequestWrite.model_validate(
        fields | {"headers": [_header(h, secrets) for h in request.headers]}
    )


def _header(header: Any, secrets: dict[str, str]) -> Any:
    """A header with its sealed value put back, if the file carried one."""
    if not header.secret:
        return header
    value = secrets.get(f"headers.{name_key(header.name)}")
    return header.model_copy(update={"value": value}) if value is not None else header


def _missing(doc: ApiDocument, secrets: dict[str, Any]) -> list[str]:
    """The secrets the document leaves out and its sealed block does not hold."""
    api_values = secrets.get("api", {})
    missing = [name for name in doc.missing_secrets if name not in api_values]
    for request in doc.requests:
        values = secrets.get("requests", {}).get(request.name, {})
        missing += [
            f"requests.{request.name}.{name}"
            for name in request.missing_secrets
            if name not in values
        ]
    return missing
