"""One table of credential headers, and every place that must know them reading it."""

import logging

import pytest
from pydantic import ValidationError

from callout.apis.fields import Header
from callout.apis.secret_fields import headers_of
from callout.logging import RedactionFilter
from callout.runtime.credential_headers import CREDENTIAL_HEADERS, LV_ACCESS, LV_SESSION
from callout.runtime.trace import Redactor
from callout.schemas import MASK

NAMES = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "LV-Access", "LV-Session"]
SECRET = "s3cret-value-42"


def test_the_table_names_every_credential_header() -> None:
    assert {n.lower() for n in NAMES} == CREDENTIAL_HEADERS
    # The LiveVox scheme sends its access token and session under names from the table.
    assert {LV_ACCESS.lower(), LV_SESSION.lower()} <= CREDENTIAL_HEADERS


@pytest.mark.parametrize("name", NAMES)
def test_a_credential_header_not_marked_secret_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="carries credentials: mark it secret"):
        Header.model_validate({"name": name.upper(), "value": SECRET, "secret": False})
    assert Header.model_validate({"name": name, "value": SECRET, "secret": True}).secret


@pytest.mark.parametrize("name", NAMES)
def test_a_credential_header_of_placeholders_only_stores_nothing_secret(name: str) -> None:
    for value in ("${accessToken}", "Bearer ${token}"):  # a scheme word is no secret
        assert Header.model_validate({"name": name, "value": value}).value == value
    with pytest.raises(ValidationError, match="mark it secret"):
        Header.model_validate({"name": name, "value": "Bearer x${token}"})


def test_a_stored_row_from_before_the_rule_still_loads() -> None:
    [header] = headers_of([{"name": "LV-Session", "value": SECRET, "secret": False}], None)
    assert header.value == SECRET


@pytest.mark.parametrize("name", NAMES)
def test_a_trace_masks_every_credential_header(name: str) -> None:
    shown = Redactor([]).headers([(name.lower(), SECRET), ("Accept", "text/plain")])
    assert shown == [(name.lower(), MASK), ("Accept", "text/plain")]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", ["{name}: {value}", "{name}={value}", "{{'{name}': '{value}'}}"])
def test_the_log_filter_masks_every_credential_header(name: str, shape: str) -> None:
    line = shape.format(name=name, value=SECRET)
    record = logging.LogRecord("callout.test", logging.INFO, __file__, 1, line, None, None)
    assert RedactionFilter().filter(record)
    assert SECRET not in record.getMessage()
    assert MASK in record.getMessage()
