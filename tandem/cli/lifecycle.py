"""`tandem person merge`, `delete` and `delete-from-sfdc`: thin commands over `tandem.sync.lifecycle`."""

from __future__ import annotations

from typing import Annotated

import typer

from tandem.cli.output import camel_json, confirm, print_json, reported_errors
from tandem.cli.people import AsJson, Reference, person_app
from tandem.config import load_settings
from tandem.errors import InvalidInput
from tandem.cli.wiring import engine_on, store_for
from tandem.sync.lifecycle import PersonLifecycle

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


@person_app.command("merge")
def merge_persons(
    winner: Reference,
    losers: Annotated[list[str], typer.Argument(help="The persons merged into the winner (ids or emails).")],
    as_json: AsJson = False,
    yes: Yes = False,
) -> None:
    """Merge persons into the winner: its values win, theirs fill its empty fields, scores add up.

    When they are in Salesforce, the records are merged there too (a Lead into a Contact is
    converted into that Contact). The merged ids then say where they went.
    """
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store:
            winner_id = store.persons.resolve(winner).id
            loser_ids = [store.persons.resolve(ref).id for ref in losers]
            if winner_id in loser_ids:
                raise InvalidInput("losers", f"person {winner_id} cannot be merged into itself")
            confirm(f"Merge person(s) {', '.join(map(str, loser_ids))} into person {winner_id}? The merged "
                    "persons, and their Salesforce records, cannot be split again.", yes)
            with engine_on(settings, store) as engine:
                outcome = PersonLifecycle(engine).merge(winner_id, loser_ids)
        if as_json:
            print_json(camel_json(outcome))
            return
        typer.echo(f"Merged {', '.join(map(str, outcome.merged_ids))} into person {outcome.winner_id}")
        if outcome.salesforce_merged:
            typer.echo(f"Salesforce: merged {', '.join(outcome.salesforce_merged)}")
        if outcome.salesforce_converted:
            typer.echo(f"Salesforce: converted Lead {', '.join(outcome.salesforce_converted)} into the Contact")


@person_app.command("delete")
def delete_person(
    reference: Reference,
    in_salesforce: Annotated[bool, typer.Option("--in-salesforce", help="Delete its Lead or Contact too.")] = False,
    as_json: AsJson = False,
    yes: Yes = False,
) -> None:
    """Delete a person; its record and activity log stay with its tombstone (`tandem person show ID` says so)."""
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store:
            person = store.persons.resolve(reference)
            person_id = person.id
            confirm(f"Delete person {_named(person)}" + (" and its Lead or Contact in Salesforce" if in_salesforce
                                                         else " (Salesforce is left alone)") + "?", yes)
            with engine_on(settings, store) as engine:
                outcome = PersonLifecycle(engine).delete(person_id, in_salesforce=in_salesforce)
        _report(outcome, as_json)


@person_app.command("delete-from-sfdc")
def delete_from_sfdc(
    reference: Reference,
    also_person: Annotated[bool, typer.Option("--also-person", help="Delete the person in Tandem too.")] = False,
    as_json: AsJson = False,
    yes: Yes = False,
) -> None:
    """Delete the person's Lead or Contact in Salesforce; the person stays (flagged deleted) unless asked."""
    with reported_errors():
        settings = load_settings()
        with store_for(settings) as store:
            person = store.persons.resolve(reference)
            person_id = person.id
            confirm(f"Delete the Salesforce Lead or Contact of person {_named(person)}"
                    + (" and the person too" if also_person else "") + "?", yes)
            with engine_on(settings, store) as engine:
                outcome = PersonLifecycle(engine).delete_from_salesforce(person_id, also_person=also_person)
        _report(outcome, as_json)


def _named(person) -> str:
    email = person.as_json().get("email")
    return f"{person.id} <{email}>" if email else str(person.id)


def _report(outcome, as_json: bool) -> None:
    if as_json:
        print_json(camel_json(outcome))
        return
    if outcome.salesforce_deleted:
        typer.echo(f"Salesforce record {outcome.salesforce_deleted} deleted")
    if outcome.person_deleted:
        typer.echo(f"Person {outcome.person_id} deleted; its record and activity log are kept with its tombstone")
    else:
        typer.echo(f"Person {outcome.person_id} kept, flagged as deleted in Salesforce")
