"""Salesforce's error answers become the typed errors of Tandem's one tree."""

from __future__ import annotations

import pytest

from tandem.errors import LimitExceeded, RecordRejected, SalesforceError, SessionExpired, TransientError
from tandem.salesforce.errors import error_for


def _body(code: str, message: str = "no", fields=()) -> list[dict]:
    return [{"errorCode": code, "message": message, "fields": list(fields)}]


@pytest.mark.parametrize(("status", "content", "expected"), [
    (401, _body("INVALID_SESSION_ID"), SessionExpired),
    (400, _body("INVALID_SESSION_ID"), SessionExpired),
    (403, _body("REQUEST_LIMIT_EXCEEDED"), LimitExceeded),
    (503, b"<html>Service Unavailable</html>", TransientError),
    (400, _body("UNABLE_TO_LOCK_ROW"), TransientError),
    (400, _body("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must be a number", ["Phone"]), RecordRejected),
    (400, _body("MALFORMED_QUERY"), SalesforceError),
    (404, _body("NOT_FOUND"), SalesforceError),
])
def test_error_for_picks_the_type_by_status_and_code(status, content, expected):
    error = error_for(status, content)
    assert type(error) is expected
    assert error.status == status


def test_error_for_keeps_salesforces_code_message_and_fields():
    error = error_for(400, _body("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must be a number", ["Phone"]))
    assert (error.error_code, error.message, error.fields) == (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must be a number", ["Phone"])
    assert str(error) == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone must be a number"


def test_error_for_reads_a_body_that_is_not_json():
    error = error_for(502, "Bad gateway")
    assert isinstance(error, TransientError) and error.message == "Bad gateway" and error.error_code is None
    assert error_for(500, b"").message == "no message"
