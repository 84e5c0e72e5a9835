"""Setup changes at run time: a new custom field, a changed field level; reset undoes both."""

import pytest

from tandem.emulator.model import Org
from tandem.emulator.model.errors import ApiError
from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER


@pytest.fixture
def org(sample_org_path):
    return Org.from_file(sample_org_path)


def sync_ctx(org):
    return org.context(org.login_password(*CONNECTED_APP, *SYNC_USER).access_token)


def field_names(org, ctx, object_name="Contact"):
    return {f["name"] for f in org.describe(ctx, object_name)["fields"]}


def test_new_custom_field_is_described_queried_and_written(org):
    ctx = sync_ctx(org)
    assert org.define_custom_field("Contact", {"name": "Segment__c", "type": "string", "length": 40}) == "Segment__c"
    assert "Segment__c" in field_names(org, ctx)
    [row] = org.query(ctx, "SELECT Id FROM Contact WHERE Email = 'wile@acme.example'").records
    org.update(ctx, "Contact", row["Id"], {"Segment__c": "Enterprise"})
    assert org.retrieve(ctx, "Contact", row["Id"], ["Segment__c"])["Segment__c"] == "Enterprise"


def test_bad_or_duplicate_field_is_refused(org):
    with pytest.raises(ApiError, match="already has a field"):
        org.define_custom_field("Contact", {"name": "Favorite_Color__c", "type": "string"})
    with pytest.raises(ApiError, match="__c"):
        org.define_custom_field("Contact", {"name": "Segment", "type": "string"})
    with pytest.raises(ApiError):
        org.define_custom_field("Contact", {"name": "Bad__c", "type": "no-such-type"})


def test_field_level_change_hides_and_reset_restores(org):
    ctx = sync_ctx(org)
    org.set_field_level("Marketing Sync", "Contact", "Title", "none")
    assert "Title" not in field_names(org, ctx)
    org.set_field_level("Marketing Sync", "Contact", "Internal_Notes__c", "read")
    assert "Internal_Notes__c" in field_names(org, ctx)
    org.define_custom_field("Contact", {"name": "Segment__c", "type": "string"})
    org.reset()
    ctx = sync_ctx(org)
    names = field_names(org, ctx)
    assert "Title" in names and "Internal_Notes__c" not in names and "Segment__c" not in names


def test_always_visible_field_cannot_be_hidden(org):
    with pytest.raises(ApiError, match="always visible"):
        org.set_field_level("Marketing Sync", "Contact", "LastName", "none")
