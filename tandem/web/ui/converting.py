"""Convert Person's page and its post. The page shows the Account the match finds, or the
duplicate-account warning, before anyone confirms; a conversion refused or failed shows the form
again with why and with the choices it was sent with, so nothing has to be chosen twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response

from tandem.errors import InvalidInput, NotFound, TandemError
from tandem.people.models import Person
from tandem.sync.actions import DUPLICATE_ACCOUNT_RISK, NEW_ACCOUNT_WARNING, conversion_refusal
from tandem.web.ui import lookups
from tandem.web.ui.actions import action_outcome
from tandem.web.ui.guard import back, operator_form, render, ui, viewer

router = APIRouter()
ACCOUNT_CHOICES = ("match", "id", "new")
"""Convert Person's Account: the matched one, the one whose Id is given, or a new one."""
FORM_ADVICE = ("to avoid duplicate accounts, give the Account to convert into under “This Account Id” "
               "or choose “The matched Account”")
"""The CLI's advice ("pass an account id") in the form's own words."""


@dataclass(frozen=True)
class ConvertChoices:
    """What the form was sent with (or shows first): kept as typed, to be shown again."""
    account: str | None = None
    account_id: str = ""
    converted_status: str = ""
    create_opportunity: bool = False
    opportunity_name: str = ""
    notify: bool = False
    owner: str = ""

    @classmethod
    def posted(cls, form: ImmutableMultiDict) -> ConvertChoices:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(account=str(form.get("account") or "match"), account_id=text("accountId"),
                   converted_status=text("convertedStatus"), create_opportunity=form.get("createOpportunity") == "on",
                   opportunity_name=text("opportunityName"), notify=form.get("notify") == "on", owner=text("owner"))

    def query(self) -> str:
        """The choices as the convert page's query string, which `posted` reads back."""
        return urlencode({"account": self.account or "", "accountId": self.account_id,
                          "convertedStatus": self.converted_status,
                          "createOpportunity": "on" if self.create_opportunity else "",
                          "opportunityName": self.opportunity_name, "notify": "on" if self.notify else "",
                          "owner": self.owner})

    def options(self) -> dict[str, Any]:
        """The engine's arguments (`PersonActions.convert_person`)."""
        return {"converted_status": self.converted_status or None, "owner": self.owner or None,
                "create_opportunity": self.create_opportunity,
                "opportunity_name": self.opportunity_name or None, "notify": self.notify,
                "account_id": (self.account_id or None) if self.account == "id" else None,
                "match_account": self.account == "match"}


@router.get("/persons/{person_id}/convert")
async def convert_page(request: Request, person_id: int) -> Response:
    viewer(request)
    try:
        found = lookups.person(ui(request).store, person_id)
    except NotFound as error:
        return render(request, "missing.html", status=404, page="Persons", message=str(error))
    sent = "account" in request.query_params  # the form again after a refusal, with what was sent
    return await _form(request, found, ConvertChoices.posted(request.query_params) if sent else ConvertChoices())


@router.post("/persons/{person_id}/convert")
async def convert(request: Request, person_id: int) -> Response:
    _, form = await operator_form(request, "Convert Person")
    choices = ConvertChoices.posted(form)
    if choices.account not in ACCOUNT_CHOICES:
        return await _again(request, person_id, choices, f"Convert Person refused: account: expected one of "
                                                         f"{', '.join(ACCOUNT_CHOICES)}, got {choices.account!r}")
    if choices.account == "id" and not choices.account_id:
        return await _again(request, person_id, choices, "Convert Person refused: accountId: give the Account Id")

    def work() -> str:
        refusal = conversion_refusal(lookups.person(ui(request).store, person_id))  # before Salesforce is opened
        if refusal is not None:
            raise InvalidInput("person", refusal)
        result = ui(request).salesforce.actions().convert_person(person_id, **choices.options())
        said = f"Converted: Contact {result.contact_id} on Account {result.account_id}"
        if result.opportunity_id:
            said += f", Opportunity {result.opportunity_id}"
        warnings = [f"a new Account was created: {DUPLICATE_ACCOUNT_RISK}; {FORM_ADVICE}" if w == NEW_ACCOUNT_WARNING
                    else w for w in result.warnings]
        return "; ".join([said, *warnings])

    done, notice = await action_outcome(work, "Convert Person")
    if done:
        return back(request, f"/ui/persons/{person_id}", notice)
    return await _again(request, person_id, choices, notice)


async def _again(request: Request, person_id: int, choices: ConvertChoices, refusal: str) -> Response:
    """The form once more, with why it was not carried out and the choices it was sent with (for a
    person who does not exist, their page, which says so): by a redirect, so that reloading the page
    or going back to it asks Salesforce for nothing again."""
    try:
        lookups.person(ui(request).store, person_id)
    except NotFound:
        return back(request, f"/ui/persons/{person_id}", refusal)
    return back(request, f"/ui/persons/{person_id}/convert?{choices.query()}", refusal)


async def _form(request: Request, found: Person, choices: ConvertChoices) -> Response:
    refusal = conversion_refusal(found)  # the engine's own rule, as the person page's button follows it
    if refusal is not None:
        return render(request, "convert.html", page="Persons", title=f"Convert Person {found.id}", person=found,
                      preview=None, problem=None,
                      choices=choices, converted=refusal)

    def look() -> Any:
        from tandem.sync.conversion_preview import preview_account

        return preview_account(ui(request).salesforce.actions().client, found)

    try:
        preview, problem = await run_in_threadpool(look), None
    except TandemError as error:
        preview, problem = None, f"the account match could not be checked: {error}"
    if choices.account is None:  # first shown: the match when there is one, else a new Account
        choices = ConvertChoices(account="match" if preview is None or preview.account_id else "new",
                                 create_opportunity=True)  # as the engine, the CLI and the REST action do
    return render(request, "convert.html", page="Persons", title=f"Convert Person {found.id}", person=found,
                  preview=preview, problem=problem,
                  choices=choices, advice=f"{DUPLICATE_ACCOUNT_RISK}; {FORM_ADVICE}")
