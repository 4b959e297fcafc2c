"""REST routes for import and export.

An import's body is the file itself, as it is (JSON, YAML or a cURL command line, or a zip
of Callout files): not wrapped in JSON, so a file is sent with `curl --data-binary @file`.
An export answers with the file. Secrets never travel this way: an export names them as
missing, and a file with sealed secrets is imported with `callout import --passphrase`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from callout.interchange import archive, export, service
from callout.interchange.options import EXTENSIONS, Clash, ExportFormat, Format
from callout.interchange.schemas import ImportReport
from callout.web.deps import ClientDep, IdPath, KeyringDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/clients/{client}", tags=["interchange"])
MEDIA_TYPES = {
    "callout": "application/yaml",
    "postman": "application/json",
    "curl": "text/plain",
}
ZIP = "application/zip"


async def _body(request: Request) -> tuple[str, bytes]:
    """The uploaded file, with its content type."""
    return request.headers.get("content-type", ""), await request.body()


FileDep = Annotated[tuple[str, bytes], Depends(_body)]


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file as it is: a Callout YAML file, a Postman collection, an "
            "OpenAPI description (JSON or YAML), a cURL command line, or a zip of Callout "
            "files (a library export; recognised by its first bytes too).",
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
                ZIP: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    responses={
        200: {"model": ImportReport, "description": "A dry run: what an import would write."},
        400: {"description": "The body is empty, or a zip that cannot be read."},
        413: {"description": "The file is larger than an import takes."},
    },
)
def import_file(
    session: SessionDep,
    keyring: KeyringDep,
    principal: PrincipalDep,
    client: ClientDep,
    file: FileDep,
    response: Response,
    format: Annotated[Format | None, Query(description="Empty: recognised from the file.")] = None,
    clash: Annotated[
        Clash, Query(description="An API whose name is taken: fail (409), skip or rename.")
    ] = "fail",
    dry_run: Annotated[bool, Query(description="Check and report; write nothing.")] = False,
    name: Annotated[
        str, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$", description="The file's name.")
    ] = "upload",
) -> ImportReport:
    """Import APIs with their requests: every file is checked before anything is written,
    and all is written in one transaction, so a bad file changes nothing."""
    content_type, data = file
    if content_type.split(";")[0].strip().lower() == ZIP or data.startswith(b"PK\x03\x04"):
        files = archive.unzip(data, name)
    else:
        files = [service.File(name, data)]
    report = service.import_files(
        session, keyring, principal, client, files, format=format, clash=clash, dry_run=dry_run
    )
    if dry_run:
        response.status_code = status.HTTP_200_OK
    return report


@router.get(
    "/apis/{api_id:id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                MEDIA_TYPES["callout"]: {"schema": {"type": "string"}},
                MEDIA_TYPES["postman"]: {"schema": {"type": "object"}},
                MEDIA_TYPES["curl"]: {"schema": {"type": "string"}},
            }
        }
    },
)
def export_api(
    session: SessionDep,
    keyring: KeyringDep,
    client: ClientDep,
    api_id: IdPath,
    format: ExportFormat = "callout",
) -> Response:
    """The API with its requests as a file: a Callout YAML file (secrets named in
    `missing_secrets`, never sent), a Postman v2.1 collection (secrets as empty
    variables), or each request as a cURL command line (placeholders as they are, secrets
    as the mask)."""
    document = export.export_api(session, keyring, client, api_id)
    filename = f"{archive.file_stem(document.name)}.{EXTENSIONS[format]}"
    return Response(
        export.WRITERS[format](document),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}},
)
def export_library(session: SessionDep, keyring: KeyringDep, client: ClientDep) -> Response:
    """The client's own APIs, one Callout file each, in a zip (secrets named, never sent):
    what `POST .../import` takes back."""
    documents = export.export_library(session, keyring, client)
    return Response(
        archive.zipped(documents),
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{client.code}-apis.zip"'},
    )
