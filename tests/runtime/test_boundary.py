"""The runtime depends on nothing of the rest of the service: it takes plans of its own frozen
values, and imports neither the web framework nor the database (DESIGN.md), so that what runs
a call can be read, tested and moved on its own."""

import ast
from pathlib import Path

import callout.runtime

RUNTIME = Path(callout.runtime.__file__).parent
# Callout's own packages the runtime must not import, and the frameworks it must not see.
FORBIDDEN = (
    "callout.apis",
    "callout.clients",
    "callout.db",
    "callout.invocations",
    "callout.web",
    "fastapi",
    "sqlalchemy",
)


def imports(tree: ast.Module) -> list[str]:
    """Every module a file imports, wherever the import stands (a function, TYPE_CHECKING)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return found


def crossings(name: str) -> bool:
    """Whether importing `name` leaves the runtime for what it must not depend on: any of
    `FORBIDDEN`, or any other part of Callout (settings, schemas, logging...)."""
    if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
        return True
    return name.startswith("callout.") and not name.startswith("callout.runtime")


def test_no_runtime_module_imports_the_rest_of_the_service() -> None:
    modules = sorted(RUNTIME.rglob("*.py"))
    assert len(modules) > 20  # the whole package was found, auth/ and auth/oauth2/ included
    refused = [
        f"{path.relative_to(RUNTIME.parent.parent)} imports {name}"
        for path in modules
        for name in imports(ast.parse(path.read_text(), str(path)))
        if crossings(name)
    ]
    assert refused == []


def test_the_check_finds_each_kind_of_import() -> None:
    source = """
import sqlalchemy.orm
from fastapi import Depends
from callout.apis.schemas import ApiFields
from callout import schemas
from callout.runtime.plan import Plan
from . import templates
def later():
    import callout.db.models
"""
    found = [name for name in imports(ast.parse(source)) if crossings(name)]
    assert found == [
        "sqlalchemy.orm",
        "fastapi",
        "fastapi.Depends",
        "callout.apis.schemas",
        "callout.apis.schemas.ApiFields",
        "callout.schemas",
        "callout.db.models",
    ]
