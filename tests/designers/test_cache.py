"""Designers cached for firing: trusted within the ttl, then checked by version with one
query and read again only when it moved; another process's edit is seen after the ttl."""

import pytest
from sqlalchemy.orm import Session

from callout.clients.access import OPERATOR
from callout.designers import service
from callout.designers.cache import DesignerCache
from callout.designers.schemas import DesignerWrite
from callout.errors import NotFound
from callout.schemas import IfMatch
from tests.conftest import QueryCounter, Tenants
from tests.factories import designer_body


def test_a_designer_is_read_once_checked_after_the_ttl_and_read_again_when_it_moved(
    session: Session, tenants: Tenants, queries: QueryCounter
) -> None:
    a = tenants.a.client
    made = service.create_designer(session, OPERATOR, a, DesignerWrite(**designer_body()))
    session.commit()
    cache, other_process = DesignerCache(ttl=60), DesignerCache(ttl=0)
    assert cache.cached(a, made.id) is None

    loaded = cache.load(session, a, made.id)
    other_process.load(session, a, made.id)
    before = queries.count
    assert cache.cached(a, made.id) is loaded
    assert queries.count == before

    renamed = DesignerWrite(**designer_body(name="Outbound"))
    service.update_designer(session, OPERATOR, a, made.id, IfMatch(frozenset({1})), renamed)
    session.commit()  # not through a Database: no cache hears of it, as in another process
    assert cache.cached(a, made.id) is loaded  # trusted within its ttl

    assert other_process.cached(a, made.id) is None  # past its ttl: check
    before = queries.count
    again = other_process.load(session, a, made.id)
    assert again.name == "Outbound"
    assert other_process.cached(a, made.id) is None  # ttl 0: always checked
    unchanged = other_process.load(session, a, made.id)
    assert unchanged is again  # the version alone was read
    assert queries.count > before


def test_a_deleted_designer_is_dropped(session: Session, tenants: Tenants) -> None:
    a = tenants.a.client
    made = service.create_designer(session, OPERATOR, a, DesignerWrite(**designer_body()))
    session.commit()
    cache = DesignerCache(ttl=0)
    cache.load(session, a, made.id)
    service.delete_designer(session, OPERATOR, a, made.id, IfMatch(frozenset({1})))
    session.commit()
    with pytest.raises(NotFound):
        cache.load(session, a, made.id)
    assert cache.cached(a, made.id) is None
