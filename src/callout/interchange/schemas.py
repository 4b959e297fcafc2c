"""Callout's own file format, and what an import reports.

One document per API, with its requests: the fields an API and a request are written with,
the service by name instead of by id, and no ids, versions or timestamps, so a library kept
in git diffs cleanly. Secrets are left out: `missing_secrets` names each one a document does
not carry, or `secrets` holds them sealed under a passphrase (`sealing.py`). Every importer
(Callout, Postman, OpenAPI, cURL) produces these documents, and one service writes them.
"""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from callout.apis.schemas import ApiSettings, RequestFields, unique_names
from callout.interchange.options import Format
from callout.schemas import Model, Name

FORMAT = 1
SecretName = Annotated[str, Field(max_length=300)]


class RequestDocument(RequestFields):
    """A request in a file: its settings, and the secret header values the file leaves out,
    each named as `headers.<name>`."""

    missing_secrets: Annotated[list[SecretName], Field(max_length=100)] = []


class SealedSecrets(Model):
    """Secrets sealed under a passphrase: scrypt (RFC 7914) turns the passphrase and `salt`
    into a key, AES-256-GCM seals a JSON object of the values. A wrong passphrase, or a byte
    changed anywhere, fails to open: nothing is half-read."""

    kdf: Literal["scrypt"] = "scrypt"
    n: Annotated[int, Field(ge=2**14, le=2**20)]
    r: Annotated[int, Field(ge=8, le=32)]
    p: Annotated[int, Field(ge=1, le=4)]
    salt: Annotated[str, Field(max_length=100, description="Base64.")]
    nonce: Annotated[str, Field(max_length=100, description="Base64.")]
    ciphertext: Annotated[str, Field(max_length=2_000_000, description="Base64.")]


class ApiDocument(ApiSettings):
    """One API and its requests, as a Callout file holds them."""

    callout: Literal[1] = Field(description="The format's version: 1.")
    service: Name | None = Field(default=None, description="The client's service, by name.")
    requests: Annotated[list[RequestDocument], Field(max_length=1000)] = []
    missing_secrets: Annotated[list[SecretName], Field(max_length=100)] = Field(
        default=[],
        description="Secrets the file leaves out, e.g. `authorization.password`: enter them "
        "in the API window before calling.",
    )
    secrets: SealedSecrets | None = Field(
        default=None, description="The API's and its requests' secrets, sealed (--with-secrets)."
    )

    @field_validator("requests")
    @classmethod
    def _unique_requests(cls, value: list[RequestDocument]) -> list[RequestDocument]:
        return unique_names(value, "request")


class Note(Model):
    """Something an import could not carry as it was: where in which file, and what."""

    source: str
    where: str = Field(description="The path inside the file, e.g. `item[2].event`.")
    message: str


class Converted(Model):
    """What a reader made of one file: the APIs it describes, and what it could not carry."""

    format: Format
    documents: list[ApiDocument]
    notes: list[Note] = []


class ImportedApi(Model):
    source: str
    name: str = Field(description="The name it has in the library.")
    action: Literal["created", "skipped", "renamed"]
    id: int | None = Field(description="Its id; none when skipped or on a dry run.")
    requests: int
    missing_secrets: list[str] = Field(
        description="Secrets to enter before calling, e.g. `authorization.password` or "
        "`requests.Lookup.headers.x-token`."
    )


class ImportReport(Model):
    dry_run: bool
    formats: list[Format] = Field(description="The formats of the files read.")
    apis: list[ImportedApi]
    services_created: list[str] = []
    notes: list[Note] = []


def file_schema() -> dict[str, Any]:
    """The JSON Schema of a Callout file (draft 2020-12), as editors take it."""
    schema = ApiDocument.model_json_schema()
    return (
        {"$schema": "https://json-schema.org/draft/2020-12/schema"}
        | schema
        | {"title": "Callout API file, format 1"}
    )
