"""Names Callout picks itself: "Copy of CRM (2)" for a copy, "New API 3" and "New Request 2"
for Add API and Add Request. Each is the first free one as names are compared (`name_key`),
within the characters a name may have.
"""

import hashlib
from collections.abc import Callable, Collection
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from callout.db.engine import WRITE_SLOTS
from callout.errors import Conflict
from callout.schemas import MAX_NAME, name_key

T = TypeVar("T")

COPY_NUMBERING = " ({})"  # "Copy of CRM (2)"
NEW_NUMBERING = " {}"  # "New API 2"
# Picks of a free name before a clash is answered as one (409 naming the name): each pick
# lost is a name another writer committed, and a process admits this many writers at once.
ATTEMPTS = WRITE_SLOTS["postgresql"]


def unique_name(base: str, taken: Collection[str], numbering: str) -> str:
    """`base`, or else `base` numbered from 2 up, the first whose key is not `taken`:
    `unique_name("New API", {"new api", "new api 2"}, NEW_NUMBERING)` is "New API 3". A long
    `base` is cut to leave its number room within MAX_NAME."""
    base = cut(base, MAX_NAME)
    candidate, number = base, 2
    while name_key(candidate) in taken:
        suffix = numbering.format(number)
        candidate = cut(base, MAX_NAME - len(suffix)) + suffix
        number += 1
    return candidate


def cut(name: str, room: int) -> str:
    """`name` cut to `room` characters, and shorter while its key is longer (a ligature such
    as "ﬁ" is one character in a name and two in its key)."""
    name = name[:room].rstrip()
    while len(name_key(name)) > room:
        name = name[:-1].rstrip()
    return name


def on_a_free_name(session: Session, create: Callable[[], T]) -> T:
    """`create()`, which picks a free name and makes the object under it; picked again when
    another writer took that name meanwhile.

    On PostgreSQL two units of work can both find "New API" free: the second's INSERT waits
    for the first to commit, then breaks the unique index. The caller did not choose that
    name, so a refusal naming it would tell them nothing they can act on: the name is
    picked again, now seeing the first one's, in a savepoint (the failed INSERT spoils
    whatever of the transaction it is in). On SQLite writers queue and never meet here.
    """
    attempt = 1
    while True:
        try:
            with session.begin_nested():
                return create()
        except Conflict as clash:
            if attempt == ATTEMPTS or [p.field for p in clash.problems] != ["name"]:
                raise
            attempt += 1


def hold(session: Session, client_id: int, key: str) -> None:
    """Until the transaction ends, be the only writer picking names that start as `key`
    does in this client's library (PostgreSQL; SQLite's writers queue anyway).

    An import that renames on a clash works for longer than Add API: fifty imports of one
    file at once each found the same numbered name free, and a picker could lose more often
    than `on_a_free_name` tries. Held, the pick sees every name taken before it.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{client_id}:{key}".encode(), digest_size=8).digest()
    lock = int.from_bytes(digest, "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
