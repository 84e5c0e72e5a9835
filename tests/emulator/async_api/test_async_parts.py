"""The Bulk API 1.0 pieces that are pure: the PK-chunking header, bounded chunk queries, inflating bodies."""

from __future__ import annotations

import gzip
import zlib

import pytest

from tandem.emulator.wire.async_jobs import AsyncError, PkChunking
from tandem.emulator.wire.async_processing import chunk_query
from tandem.emulator.wire.compression import InflateError, inflate


@pytest.mark.parametrize("header, expected", [
    (None, None),
    ("false", None),
    ("TRUE", PkChunking(100_000, None)),
    ("chunkSize=50000;", PkChunking(50_000, None)),
    ("chunkSize=10; startRow=00130000000132G", PkChunking(10, "00130000000132G")),
    ("true; chunkSize=2500;", PkChunking(2500, None)),  # as tap-salesforce sends it
    ("true; chunkSize=100000; parent=Account", PkChunking(100_000, None)),
])
def test_pk_chunking_header(header, expected):
    assert PkChunking.parse(header) == expected


@pytest.mark.parametrize("header, named", [
    ("chunkSize=0", "chunkSize"),
    ("chunkSize=250001", "chunkSize"),
    ("chunkSize=ten", "chunkSize"),
    ("chunkSize=5; size=6", "size=6"),
    ("maybe", "maybe"),
])
def test_a_bad_pk_chunking_header_names_what_is_wrong(header, named):
    with pytest.raises(AsyncError) as refused:
        PkChunking.parse(header)
    assert refused.value.error_code == "InvalidJob" and named in refused.value.message


@pytest.mark.parametrize("soql, expected", [
    ("SELECT Name FROM Account", "SELECT Name FROM Account WHERE Id >= 'a' AND Id < 'b'"),
    ("SELECT Name FROM Account WHERE Industry = 'Energy' OR Name = 'x'",
     "SELECT Name FROM Account WHERE Id >= 'a' AND Id < 'b' AND (Industry = 'Energy' OR Name = 'x')"),
    ("select Name from Account where Name != null order by Name limit 5",
     "select Name from Account WHERE Id >= 'a' AND Id < 'b' AND (Name != null) order by Name limit 5"),
    ("SELECT Name FROM Account ORDER BY Name", "SELECT Name FROM Account WHERE Id >= 'a' AND Id < 'b' ORDER BY Name"),
])
def test_a_chunk_query_puts_its_bounds_first_in_the_where_clause(soql, expected):
    assert chunk_query(soql, "a", "b") == expected


def test_the_last_chunk_has_no_upper_bound():
    assert chunk_query("SELECT Id FROM Lead", "00Q5g", None) == "SELECT Id FROM Lead WHERE Id >= '00Q5g'"


@pytest.mark.parametrize("coding, packed", [
    ("gzip", gzip.compress(b"payload")),
    ("x-gzip", gzip.compress(b"payload")),
    ("deflate", zlib.compress(b"payload")),
    ("deflate", zlib.compress(b"payload")[2:-4]),
], ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate"])  # gzip bytes hold a time: no ids from them
def test_inflate(coding, packed):
    assert inflate(packed, coding) == b"payload"


@pytest.mark.parametrize("packed, reason", [
    (b"plain text", "not valid gzip"),
    (gzip.compress(b"payload")[:-12], "ends early"),
], ids=["plain", "truncated"])
def test_a_body_that_does_not_inflate_says_why(packed, reason):
    with pytest.raises(InflateError, match=reason):
        inflate(packed, "gzip")


def _definition(**sections) -> dict:
    return {"format": "tandem-org/1", "users": [{"username": "a@x.example", "password": "p", "name": "A",
                                                 "profile": "System Administrator"}], **sections}


def test_the_async_api_section_is_optional_and_on_by_default():
    from tandem.emulator.model.definition import parse_definition

    assert parse_definition(_definition()).asyncApi.enabled is True
    assert parse_definition(_definition()).asyncApi.resultChunkRows == 100_000
    off = parse_definition(_definition(asyncApi={"enabled": False, "resultChunkRows": 7})).asyncApi
    assert (off.enabled, off.resultChunkRows) == (False, 7)


@pytest.mark.parametrize("section, path", [
    ({"resultChunkRows": 0}, "asyncApi.resultChunkRows"),
    ({"enabled": "sometimes"}, "asyncApi.enabled"),
    ({"enable": False}, "asyncApi.enable"),
])
def test_a_bad_async_api_section_names_its_place_in_the_file(section, path):
    from tandem.emulator.model.definition import OrgDefinitionError, parse_definition

    with pytest.raises(OrgDefinitionError) as refused:
        parse_definition(_definition(asyncApi=section))
    assert refused.value.path == path
