"""What an import or an export is asked for: the format of a file, and what to do with an API
whose name is taken; and how an exported file's name ends. Plain word lists importing
nothing, so that `callout import` and `callout export` are typed with them without loading
the schemas."""

from typing import Literal

Format = Literal["callout", "postman", "openapi", "curl"]
ExportFormat = Literal["callout", "postman", "curl"]
Clash = Literal["fail", "skip", "rename"]
# The ending of an exported API's file name, by format: `crm.postman_collection.json`.
EXTENSIONS: dict[ExportFormat, str] = {
    "callout": "yaml",
    "postman": "postman_collection.json",
    "curl": "sh",
}
