"""`tandem check`: log in to the org and say whether a sync can run, and what to fix if not."""

from __future__ import annotations

import shutil
import textwrap
from typing import Annotated, Any

import typer

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.cli.wiring import salesforce_client
from tandem.config import load_settings
from tandem.salesforce.org_check import OrgCheck, check_org
from tandem.sync.field_report import field_rules
from tandem.sync.fields import LINK_FIELD, FieldRule

UNMAPPED = "not in default mapping"
_MARK = {"ok": "ok  ", "warning": "warn", "problem": "FAIL"}


@app.command()
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Log in to Salesforce and check the sync user's access; exit status 0 only when a sync can run."""
    with reported_errors():
        settings = load_settings()
        with salesforce_client(settings) as client:
            result = check_org(client, link_field=LINK_FIELD)
            calls = client.calls
    skipped = [rule for rule in _rules(result) if not rule.syncs]
    if as_json:
        print_json(_as_json(result, skipped, calls))
    else:
        _print(result, skipped)
    if not result.can_sync:
        raise typer.Exit(1)


def _rules(result: OrgCheck) -> list[FieldRule]:
    rules: list[FieldRule] = []
    for access in result.objects.values():
        if access.describe is not None:
            rules.extend(field_rules(access.name, access.describe.get("fields", ()), access.hidden))
    return rules


def _print(result: OrgCheck, skipped: list[FieldRule]) -> None:
    width = max(60, shutil.get_terminal_size().columns)
    typer.echo(f"Salesforce: {result.login_url}")
    if result.user:
        user = result.user
        typer.echo(f"Sync user: {user.get('display_name') or user.get('name')} <{user.get('username')}>")
        typer.echo(f"Org: {user.get('organization_id')}")
    if result.api_usage:
        typer.echo(f"API usage: {result.api_usage[0]} of {result.api_usage[1]} calls in the last 24 h")
    typer.echo("")
    for finding in result.findings:
        typer.echo(textwrap.fill(f"{_MARK[finding.level]}  {finding.subject}: {finding.text}", width,
                                 subsequent_indent=" " * 6))
        if finding.fix and finding.level != "ok":
            typer.echo(textwrap.fill(f"fix: {finding.fix}", width, initial_indent=" " * 6, subsequent_indent=" " * 11))
    unmapped = [rule for rule in skipped if rule.reason == UNMAPPED]
    named = [rule for rule in skipped if rule.reason != UNMAPPED]
    if skipped:
        typer.echo("")
        typer.echo("Fields that will not sync:")
        for rule in named:
            typer.echo(textwrap.fill(f"{rule.object_name}.{rule.sf_field}: {rule.reason}", width,
                                     initial_indent="  ", subsequent_indent="    "))
        if unmapped:
            typer.echo(textwrap.fill(f"and {len(unmapped)} standard fields outside the default mapping "
                                     "(`tandem fields` lists them)", width, initial_indent="  ", subsequent_indent="    "))
    problems = sum(f.level == "problem" for f in result.findings)
    warnings = sum(f.level == "warning" for f in result.findings)
    typer.echo("")
    if problems:
        typer.echo(f"A sync cannot run: {problems} problem(s) to fix, {warnings} warning(s).")
    else:
        typer.echo(f"A sync can run ({warnings} warning(s)).")
        typer.echo("Next: `tandem init`, then `tandem sync`.")


def _as_json(result: OrgCheck, skipped: list[FieldRule], calls: int) -> dict[str, Any]:
    return {
        "canSync": result.can_sync,
        "loginUrl": result.login_url,
        "user": {"username": result.user.get("username"), "name": result.user.get("display_name") or result.user.get("name"),
                 "organizationId": result.user.get("organization_id")} if result.user else None,
        "apiUsage": {"used": result.api_usage[0], "limit": result.api_usage[1]} if result.api_usage else None,
        "convertedStatus": result.converted_status,
        "objects": {
            name: {
                "readable": access.flag("queryable"), "creatable": access.flag("createable"),
                "editable": access.flag("updateable"),
                "readOnlyFields": sorted(f.name for f in access.fields if not f.updateable and not f.calculated),
                "hiddenFields": list(access.hidden) if access.hidden is not None else None,
                "hiddenFieldsUnknownBecause": access.hidden_unknown_reason,
            } for name, access in result.objects.items()
        },
        "findings": [{"level": f.level, "subject": f.subject, "text": f.text, "fix": f.fix} for f in result.findings],
        "fieldsNotSynced": [{"object": r.object_name, "field": r.sf_field, "reason": r.reason} for r in skipped],
        "apiCalls": calls,
    }
