"""`tandem person sync` and `tandem person convert`: the flow actions, one person at a time."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from tandem.cli.output import camel_json, print_json, reported_errors
from tandem.cli.people import AsJson, Reference, person_app
from tandem.config import load_settings
from tandem.errors import InvalidInput, InvalidSalesforceId
from tandem.cli.wiring import engine_on, store_for
from tandem.salesforce.ids import is_well_formed
from tandem.sync.actions import PersonActions


@person_app.command("sync")
def sync_person(
    reference: Reference,
    owner: Annotated[Optional[str], typer.Option("--owner", help="Salesforce username to own a new Lead.")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", help="Lead queue to own a new Lead.")] = None,
    assignment_rules: Annotated[bool, typer.Option("--assignment-rules/--no-assignment-rules",
                                                   help="Let Salesforce's lead assignment rules pick the owner.")] = True,
    as_json: AsJson = False,
) -> None:
    """Sync Person to SFDC now: create it as a Lead, or push its pending changes if it is linked."""
    with reported_errors():
        if owner is not None and queue is not None:  # refused before Salesforce is opened
            raise InvalidInput("--owner", "give --owner or --queue, not both")
        settings = load_settings()
        with store_for(settings) as store:
            person = store.persons.resolve(reference)
            with engine_on(settings, store) as engine:
                result = PersonActions(engine).sync_person(
                    person.id, owner=owner, queue=queue, assignment_rules=assignment_rules)
        if as_json:
            print_json(camel_json(result))
        elif result.created:
            typer.echo(f"Person {result.person_id} created in Salesforce as Lead {result.sfdc_id}")
        else:
            sent = ", ".join(result.fields) or "nothing (no change was left to send)"
            typer.echo(f"Person {result.person_id} ({result.sfdc_type} {result.sfdc_id}) pushed: {sent}")


@person_app.command("convert")
def convert_person(
    reference: Reference,
    converted_status: Annotated[Optional[str], typer.Option(
        "--converted-status", help="Lead status for the converted Lead (default: the org's converted status).")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner", help="Salesforce username to own the records.")] = None,
    notify: Annotated[bool, typer.Option("--notify", help="Have Salesforce email the owner.")] = False,
    no_opportunity: Annotated[bool, typer.Option("--no-opportunity", help="Create no Opportunity.")] = False,
    opportunity_name: Annotated[Optional[str], typer.Option(
        "--opportunity-name", help="Name of the new Opportunity (default: Salesforce's).")] = None,
    account_id: Annotated[Optional[str], typer.Option("--account-id", help="Convert into this Account.")] = None,
    match_account: Annotated[bool, typer.Option(
        "--match-account", help="Use the one Account named like the person's company or with its email domain.")] = False,
    as_json: AsJson = False,
) -> None:
    """Convert Person: its Lead becomes a Contact (a new Account and Opportunity unless told otherwise).

    Converting creates a new Account by default, as the native action does, so duplicates are
    possible: pass --account-id, or --match-account to look for the company's Account first.
    """
    with reported_errors():
        if account_id is not None and not is_well_formed(account_id):
            raise InvalidSalesforceId(account_id, "not a 15- or 18-character Account Id", field="--account-id")
        if account_id is not None and match_account:
            raise InvalidInput("--account-id", "give --account-id or --match-account, not both")
        settings = load_settings()
        with store_for(settings) as store:
            person = store.persons.resolve(reference)
            with engine_on(settings, store) as engine:
                result = PersonActions(engine).convert_person(
                    person.id, converted_status=converted_status, owner=owner, notify=notify,
                    create_opportunity=not no_opportunity, opportunity_name=opportunity_name,
                    account_id=account_id, match_account=match_account)
        if as_json:
            print_json(camel_json(result))
            return
        typer.echo(f"Person {result.person_id}: Lead {result.lead_id} converted to Contact {result.contact_id}")
        typer.echo(f"Account {result.account_id}" + (" (new)" if result.account_created else " (existing)")
                   + (f", Opportunity {result.opportunity_id}" if result.opportunity_id else ", no Opportunity"))
        for warning in result.warnings:
            typer.echo(f"Warning: {warning}", err=True)
