"""Reading what a sync did: persons by email, activities by type."""

from tandem.people import activities as types


def person(store, email):
    [found] = store.persons.find_by_email(email)
    return found


def activities_of(store, person_id, kind):
    return [a for a in store.activities.find(person_id=person_id) if a.activity_type_id == kind.id]


CONFLICT = types.SFDC_SYNC_CONFLICT
FAILED = types.SFDC_SYNC_FAILED
CHANGE = types.CHANGE_DATA_VALUE
DROPPED = types.SFDC_VALUE_DROPPED
SYNCED = types.SYNC_LEAD_TO_SFDC
