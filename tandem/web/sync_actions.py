"""Tandem's own resources in the same envelope: the two flow actions, Merge Leads and the sync status.

The Salesforce client is opened on first use of an action (the bundled emulator starts only then)
and closed when the server stops; one SyncEngine serves every call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tandem.errors import (
    InvalidInput,
    LimitExceeded,
    NotFound,
    RecordRejected,
    SalesforceError,
    TransientError,
)
from tandem.people.store import PersonStore
from tandem.web.envelope import ApiFailure, Codes, success
from tandem.web.openapi_docs import REST_RESPONSES, body_schema
from tandem.web.parameters import MAX_ID, as_named_in_body, boolean, ids, integer, json_body, multi, validated

router = APIRouter(tags=["sync"], responses=REST_RESPONSES)

ClientFactory = Callable[[], AbstractContextManager[Any]]


class SyncToSfdcRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt option must not run the action without it

    owner: str | None = None
    queue: str | None = None
    assignmentRules: bool | None = None


class ConvertInSfdcRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # `matchAcount` ignored would create a duplicate Account

    convertedStatus: str | None = None
    owner: str | None = None
    notify: bool = False
    createOpportunity: bool = True
    opportunityName: str | None = None
    accountId: str | None = None
    matchAccount: bool = False


class SalesforceActions:
    """Opens the Salesforce client and builds the engine and actions lazily, once."""

    def __init__(self, store: PersonStore, client_factory: ClientFactory, policy: Any = None) -> None:
        self.store = store
        self.client_factory = client_factory
        self.policy = policy
        """The sync policy in force: the actions send what it lets through and count in its budget."""
        self._stack = ExitStack()
        self._actions: Any = None
        self._lock = threading.Lock()

    def actions(self) -> Any:
        with self._lock:
            if self._actions is None:
                from tandem.sync.actions import PersonActions
                from tandem.sync.cycle import SyncEngine

                client = self._stack.enter_context(self.client_factory())
                self._actions = PersonActions(SyncEngine(client, self.store, policy=self.policy))
            return self._actions

    def close(self) -> None:
        with self._lock:
            self._actions = None
            self._stack.close()


def _failure_for(error: Exception) -> ApiFailure:
    if isinstance(error, NotFound):
        return ApiFailure(Codes.LEAD_NOT_FOUND, str(error) or "Lead not found")
    if isinstance(error, InvalidInput):
        return ApiFailure(Codes.INVALID_DATA, f"Invalid value for '{as_named_in_body(error.field)}': {error.reason}")
    if isinstance(error, RecordRejected):
        fields = f" (fields: {', '.join(error.fields)})" if error.fields else ""
        return ApiFailure(Codes.INVALID_DATA, f"Salesforce refused the record: {error}{fields}")
    if isinstance(error, LimitExceeded):
        return ApiFailure("607", f"Salesforce API limit reached: {error.message}")
    if isinstance(error, TransientError):
        return ApiFailure(Codes.TRANSIENT, f"Transient Error: {error.message}{_hinted(error)}")
    if isinstance(error, SalesforceError):
        return ApiFailure(Codes.TRANSIENT, f"Salesforce error: {error}{_hinted(error)}")
    return ApiFailure(Codes.TRANSIENT, f"Transient Error: {error}")


def _hinted(error: SalesforceError) -> str:
    """What the operator can do about it, where something can be done (as the CLI says it)."""
    return f"; {error.hint}" if error.hint else ""


def _person_id(request: Request, lead_id: int) -> int:
    """The person's id, checked here so an unknown id never opens the Salesforce client."""
    if not 0 < lead_id <= MAX_ID or not request.app.state.store.persons.get_many([lead_id]):
        raise ApiFailure(Codes.LEAD_NOT_FOUND, "Lead not found")
    return lead_id


async def _run(request: Request, call: Callable[[Any], Any], *, opened: bool = True) -> Any:
    """`call` with the flow actions over the Salesforce connection, opened first; or, unless
    `opened`, with the function that opens them, for work that may need no Salesforce at all."""
    from tandem.errors import CycleBusy

    holder: SalesforceActions = request.app.state.salesforce
    action = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
    metrics = getattr(request.app.state, "metrics", None)

    def work() -> Any:
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = call(holder.actions() if opened else holder.actions)
            outcome = "succeeded"
            return result
        except (CycleBusy, SalesforceError, InvalidInput, NotFound) as error:
            raise _failure_for(error) from None
        finally:
            if metrics is not None:
                metrics.time_action(action, started, outcome)

    return await run_in_threadpool(work)


@router.post("/rest/v1/leads/{lead_id}/syncToSfdc.json", summary="Sync Person to SFDC", openapi_extra={
    "requestBody": {"content": {"application/json": {"schema": body_schema(SyncToSfdcRequest)}}}})
async def sync_to_sfdc(request: Request, lead_id: int) -> Response:
    body = validated(SyncToSfdcRequest, await json_body(request, empty={}))
    person_id = _person_id(request, lead_id)
    outcome = await _run(request, lambda actions: actions.sync_person(
        person_id, owner=body.owner, queue=body.queue, assignment_rules=body.assignmentRules))
    return success([{
        "id": outcome.person_id, "status": "created" if outcome.created else "updated",
        "sfdcType": outcome.sfdc_type, "sfdcId": outcome.sfdc_id, "fields": list(outcome.fields),
    }])


@router.post("/rest/v1/leads/{lead_id}/convertInSfdc.json", summary="Convert Person", openapi_extra={
    "requestBody": {"content": {"application/json": {"schema": body_schema(ConvertInSfdcRequest)}}}})
async def convert_in_sfdc(request: Request, lead_id: int) -> Response:
    body = validated(ConvertInSfdcRequest, await json_body(request, empty={}))
    person_id = _person_id(request, lead_id)
    outcome = await _run(request, lambda actions: actions.convert_person(
        person_id, converted_status=body.convertedStatus, owner=body.owner, notify=body.notify,
        create_opportunity=body.createOpportunity, opportunity_name=body.opportunityName,
        account_id=body.accountId, match_account=body.matchAccount))
    values = asdict(outcome)
    return success([{
        "id": values["person_id"], "status": "converted", "sfdcLeadId": values["lead_id"],
        "sfdcContactId": values["contact_id"], "sfdcAccountId": values["account_id"],
        "sfdcOpportunityId": values["opportunity_id"], "accountCreated": values["account_created"],
        "warnings": list(values["warnings"]),
    }])


MERGE_LIMIT = 25
"""Leads merged into one winner in one call (MARKETO-API §5.6: more are 1080, nothing merged)."""


@router.post("/rest/v1/leads/{lead_id}/merge.json", summary="Merge Leads")
async def merge_leads(request: Request, lead_id: int) -> Response:
    """The losers (`leadId` or `leadIds`) merge into the winner: its values win, theirs fill its empty
    fields, scores add up, activity logs combine. With `mergeInCRM=true` their Salesforce records are
    merged too, and as at Marketo a Contact's person wins over a Lead's and a person in Salesforce over
    one that is not, whatever winner was named; without it persons synced to two records or more are
    refused (`PersonLifecycle.merge`)."""
    await json_body(request, empty=None)  # the call sends none; a body there must still be well formed
    query = request.query_params
    named = multi(query.getlist("leadIds")) + multi(query.getlist("leadId"))
    if not named:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'leadIds'")
    losers = list(dict.fromkeys(integer("leadIds", text) for text in named))
    if len(losers) > MERGE_LIMIT:
        raise ApiFailure(Codes.MERGE_LIMIT, f"{len(losers)} leads to merge; at most {MERGE_LIMIT} a call, "
                                            "nothing was merged")
    if lead_id in losers:
        raise ApiFailure(Codes.INVALID_DATA, f"Invalid data: lead {lead_id} cannot be merged into itself")
    in_crm = boolean("mergeInCRM", query.get("mergeInCRM"), False)
    winner_id = _person_id(request, lead_id)
    store: PersonStore = request.app.state.store
    found = {p.id for p in store.persons.get_many(ids("leadIds", losers))}
    missing = [n for n in losers if n not in found]
    if missing:
        raise ApiFailure(Codes.LEAD_NOT_FOUND, f"Lead not found: {', '.join(map(str, missing))}")

    def merge(open_actions: Callable[[], Any]) -> Any:
        from tandem.people.origin import ChangeOrigin
        from tandem.sync.lifecycle import PersonLifecycle, merge_in_tandem_only

        done = merge_in_tandem_only(store, winner_id, losers, source=ChangeOrigin.API)
        if done is not None:  # no one was in Salesforce: its connection was never opened
            return done
        lifecycle = PersonLifecycle(open_actions().engine, source=ChangeOrigin.API)
        return lifecycle.merge(winner_id, losers, in_salesforce=in_crm, salesforce_picks=in_crm)

    await _run(request, merge, opened=False)
    return success(include_result=False)


@router.get("/rest/v1/sfdc/status.json", summary="Sync status (as `tandem status --json`)")
def sfdc_status(request: Request) -> Response:
    from tandem.sync.status import sync_status

    return success([sync_status(request.app.state.store, now=datetime.now(UTC),
                                policy=getattr(request.app.state, "policy", None))])
