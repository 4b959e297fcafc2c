"""A designer saved while the library changes under it, on committed data: whichever comes
second is refused, so no designer is left calling a request or mapping a parameter that is
gone. On PostgreSQL the second writer waits on the first one's row lock (the foreign key's,
or the FOR SHARE a save holds on the requests it calls); SQLite has one writer at a time."""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from callout.apis import request_service
from callout.apis import service as apis
from callout.apis.schemas import ApiWrite, RequestWrite
from callout.clients.access import OPERATOR
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.models import Client, DesignerCall, Request
from callout.designers import service as designers
from callout.designers.schemas import DesignerWrite
from callout.errors import CalloutError
from callout.schemas import IfMatch
from tests.factories import add_client, api_body, designer_body, function_call, request_body

FIRST = IfMatch(frozenset({1}))


@dataclass(frozen=True)
class Stored:
    client_id: int
    api_id: int
    request_id: int

    def designer(self) -> DesignerWrite:
        return DesignerWrite.model_validate(
            designer_body(function_call(self.api_id, self.request_id))
        )


@pytest.fixture
def stored(scratch_database: Database, keys: KeySource) -> Stored:
    """Client acme's CRM API and its request, committed."""
    with scratch_database.transaction() as session:
        client = add_client(session, "acme")
        api = apis.create_api(
            session, keys.keyring(), OPERATOR, client, ApiWrite.model_validate(api_body())
        )
        request = request_service.create_request(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            api.id,
            RequestWrite.model_validate(request_body()),
        )
        return Stored(client.id, api.id, request.id)


Work = Callable[[Session, Client], object]


def _waits_for_a_lock(database: Database) -> None:
    """Until a session of `database` waits for a row lock. SQLite's writers queue as they
    begin, where nothing shows it: a pause stands in."""
    if database.engine.dialect.name == "sqlite":
        time.sleep(0.3)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with database.engine.connect() as connection:
        for _ in range(200):
            if connection.execute(waiting).scalar():
                return
            connection.rollback()  # PostgreSQL keeps one view of the activity per transaction
            time.sleep(0.05)
    pytest.fail("the second writer never waited for the first")


@dataclass
class Outcome:
    error: BaseException | None = None


def _second(database: Database, client_id: int, work: Work) -> tuple[threading.Thread, Outcome]:
    """Start `work` in its own unit of work, on a thread: the writer that comes second."""
    outcome = Outcome()

    def run() -> None:
        try:
            with database.transaction() as session:
                client = session.get(Client, client_id)
                assert client is not None
                work(session, client)
        except BaseException as error:  # reported by the test, not lost in the thread
            outcome.error = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def race(scratch_database: Database, stored: Stored) -> Iterator[Callable[[Work, Work], Outcome]]:
    """Run `first` and, while its unit of work is still open, `second`; returns how the
    second ended once both are done."""
    threads: list[threading.Thread] = []

    def run(first: Work, second: Work) -> Outcome:
        with scratch_database.transaction() as session:
            client = session.get(Client, stored.client_id)
            assert client is not None
            first(session, client)
            thread, outcome = _second(scratch_database, stored.client_id, second)
            threads.append(thread)
            _waits_for_a_lock(scratch_database)
        thread.join(timeout=60)
        assert not thread.is_alive()
        return outcome

    yield run
    for thread in threads:
        thread.join(timeout=60)


def _calls(database: Database) -> list[tuple[int, list[str]]]:
    with database.transaction() as session:
        rows = session.execute(select(DesignerCall.request_id, DesignerCall.parameters)).all()
        return [(request_id, parameters) for request_id, parameters in rows]


def test_an_api_deleted_while_a_designer_is_saved_is_refused(
    race: Callable[[Work, Work], Outcome], stored: Stored, scratch_database: Database
) -> None:
    outcome = race(
        lambda session, client: designers.create_designer(
            session, OPERATOR, client, stored.designer()
        ),
        lambda session, client: apis.delete_api(session, OPERATOR, client, stored.api_id, FIRST),
    )
    assert isinstance(outcome.error, CalloutError), outcome.error
    assert outcome.error.status == 409
    assert "API 'CRM' is called by" in outcome.error.detail
    assert _calls(scratch_database) == [(stored.request_id, ["customerId"])]


def test_a_parameter_dropped_while_a_designer_maps_it_is_refused(
    race: Callable[[Work, Work], Outcome], stored: Stored, keys: KeySource
) -> None:
    dropped = RequestWrite.model_validate(request_body(endpoint_path="customers", parameters=[]))
    outcome = race(
        lambda session, client: designers.create_designer(
            session, OPERATOR, client, stored.designer()
        ),
        lambda session, client: request_service.update_request(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            stored.api_id,
            stored.request_id,
            FIRST,
            dropped,
        ),
    )
    assert isinstance(outcome.error, CalloutError), outcome.error
    assert outcome.error.status == 409
    assert "'customerId' is mapped by designer 'Inbound'" in outcome.error.detail


def test_a_designer_saved_while_its_parameter_is_dropped_is_refused(
    race: Callable[[Work, Work], Outcome],
    stored: Stored,
    keys: KeySource,
    scratch_database: Database,
) -> None:
    dropped = RequestWrite.model_validate(request_body(endpoint_path="customers", parameters=[]))
    outcome = race(
        lambda session, client: request_service.update_request(
            session,
            keys.keyring(),
            OPERATOR,
            client,
            stored.api_id,
            stored.request_id,
            FIRST,
            dropped,
        ),
        lambda session, client: designers.create_designer(
            session, OPERATOR, client, stored.designer()
        ),
    )
    assert isinstance(outcome.error, CalloutError), outcome.error
    assert outcome.error.status == 422
    assert "has no parameter 'customerId'" in outcome.error.detail
    assert _calls(scratch_database) == []


def test_a_designer_saved_while_its_request_is_deleted_is_refused(
    race: Callable[[Work, Work], Outcome], stored: Stored, scratch_database: Database
) -> None:
    outcome = race(
        lambda session, client: request_service.delete_request(
            session, OPERATOR, client, stored.api_id, stored.request_id, FIRST
        ),
        lambda session, client: designers.create_designer(
            session, OPERATOR, client, stored.designer()
        ),
    )
    assert isinstance(outcome.error, CalloutError), outcome.error
    assert outcome.error.status == 422
    assert f"API 'CRM' has no request {stored.request_id}" in outcome.error.detail
    with scratch_database.transaction() as session:
        assert session.get(Request, stored.request_id) is None
    assert _calls(scratch_database) == []
