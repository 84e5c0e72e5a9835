"""`tandem policy check NEW.toml`, and how a dry run, the backlog forecast and the budget are printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tandem.cli import app
from tandem.cli.output import print_json, reported_errors
from tandem.cli.wiring import engine_on, store_for
from tandem.config import load_settings
from tandem.sync.dry_run import compare
from tandem.sync.policy import load_policy_file

policy_app = typer.Typer(help="Check a sync policy before it is in force.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
console = Console()


@policy_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="A tandem.toml-shaped file whose [sync] table is the new policy.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Check NEW.toml's [sync] policy, then show what the next cycle would do differently under it (read-only)."""
    with reported_errors():
        new_policy = load_policy_file(path)
        settings = load_settings()
        with store_for(settings) as store, engine_on(settings, store) as engine:
            result = compare(engine, new_policy)
        if as_json:
            print_json(result)
            return
        typer.echo(f"{path}: the policy is valid")
        changes = result["changes"]
        if not any(changes[key] for key in ("pull", "push", "conflicts", "filteredOut")):
            typer.echo("the next cycle would do the same under it")
            return
        table = Table(title="What the next cycle would do differently")
        for column in ("side", "object", "what", "now", "with the new policy"):
            table.add_column(column)
        for side in ("pull", "push"):
            for object_name, delta in changes[side].items():
                for what, values in delta.items():
                    table.add_row(side, object_name, what, _short(values["now"]), _short(values["new"]))
        for key, values in changes["filteredOut"].items():
            now, new = values["now"], values["new"]
            table.add_row("filter", key, "filtered out", _count(now), _count(new))
        console.print(table)
        for conflict in changes["conflicts"]:
            typer.echo(f"conflict on person {conflict['personId']} {conflict['field']}: "
                       f"{conflict['winnerNow']} wins now ({conflict['ruleNow']}), "
                       f"{conflict['winner']} would win ({conflict['rule']})")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
    return str(value)


def _count(section: dict[str, Any] | None) -> str:
    if section is None:
        return "-"
    return str(section.get("records", section.get("persons", 0)))


def print_dry_run(out: Console, result: dict[str, Any]) -> None:
    """A dry run as tables: per object what would be pulled and pushed, then conflicts and filters."""
    table = Table(title="The next cycle, dry run (nothing was written)")
    for column in ("object", "pull: records", "create", "update", "unchanged", "delete", "convert", "push: persons"):
        table.add_column(column)
    for object_name, pulled in result["pull"].items():
        pushed = result["push"].get(object_name)
        table.add_row(object_name, *(str(pulled[k]) for k in ("records", "create", "update", "unchanged",
                                                                "delete", "convert")),
                      str(pushed["persons"]) if pushed else "-")
    out.print(table)
    for conflict in result["conflicts"][:50]:
        typer.echo(f"conflict: person {conflict['personId']} {conflict['object']}.{conflict['field']}: "
                   f"{conflict['winner']} would win ({conflict['rule']}), keeping {conflict['kept']!r} over "
                   f"{conflict['lost']!r}")
    for key, section in result["filteredOut"].items():
        typer.echo(f"filtered out by {key}: {_count(section)} ({section['filter']}; leaving: {section['leaving']})")
    calls = result["apiCalls"]
    typer.echo(f"API calls: the cycle would spend about {calls['cycle']} ({calls['read']} reading the org, "
               f"{calls['push']} pushing); this dry run spent {calls['spentByThisDryRun']}")


def print_forecast(forecast: dict[str, Any], budget: dict[str, Any]) -> None:
    """The backlog each way with its time and cost, and the budget's lanes with the day's forecast."""
    for label, key in (("to Salesforce", "toSalesforce"), ("from Salesforce", "fromSalesforce")):
        part = forecast[key]
        if part["records"] is None:
            continue
        eta = "unknown rate" if part["seconds"] is None else f"about {part['seconds']:.0f} s"
        typer.echo(f"backlog {label}: {part['records']} records, {eta}, about {part['apiCalls']} API calls")
    lanes = ", ".join(f"{lane['lane']} {lane['spent']}" + (f" (stops at {lane['limit']})" if lane["limit"] is not None
                                                           else "") + (" SPENT" if lane["exhausted"] else "")
                      for lane in budget["lanes"])
    total = (f"{budget['spent']} of {budget['budget']} calls" if budget["budget"] is not None
             else f"{budget['spent']} calls (no budget set)")
    typer.echo(f"API budget today: {total}; lanes: {lanes}")
    outlook = budget["forecast"]
    spent = any(lane["lane"] == "cycle" and lane["exhausted"] for lane in budget["lanes"])
    when = (f"; the cycle's lane is spent until {budget['resetsAt']}" if spent
            else f"; the cycle's lane runs out at {outlook['cycleLaneRunsOutAt']}" if outlook["cycleLaneRunsOutAt"]
            else "")
    typer.echo(f"forecast to the end of the day: about {outlook['projectedCalls']} calls at {outlook['callsPerHour']}/h"
               + when)
