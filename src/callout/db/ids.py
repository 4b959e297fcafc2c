"""Ids taken from a table's counter with no row to hold them: ids no row has and none will
ever get, for what names an object this installation never held (such as the deleted
objects of a restored audit trail).

Ids are never reused (`models.NEVER_REUSED`): a PostgreSQL sequence never goes back, and a
SQLite AUTOINCREMENT table counts in `sqlite_sequence` past the highest id it has ever
handed out. Taking ids moves that counter on as inserts would, so later rows start past them.
"""

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session


def reserve(session: Session, table: Table, count: int) -> list[int]:
    """`count` new ids of `table`, ascending, that no row of it has or will have."""
    if count <= 0:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        taken = session.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        )
        return sorted(taken)
    if dialect != "sqlite" or not table.dialect_options["sqlite"]["autoincrement"]:
        raise NotImplementedError(f"{table.name}: ids that a {dialect} table never reuses")
    # A unit of work that writes holds SQLite's write lock from its start (BEGIN IMMEDIATE),
    # so nothing inserts between the read and the move. A table has a row in sqlite_sequence
    # from its first insert on; without one it has handed out nothing.
    counter = session.scalar(
        text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table.name}
    )
    highest = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    last = max(counter or 0, highest) + count
    moved = (
        "INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :last)"
        if counter is None
        else "UPDATE sqlite_sequence SET seq = :last WHERE name = :table"
    )
    session.execute(text(moved), {"table": table.name, "last": last})
    return list(range(last - count + 1, last + 1))
