"""``tracemine plugins``: every component the plugin hooks registered, and where it came from."""

from __future__ import annotations

import json
from typing import Any

import click


def hook_label(hook: str) -> str:
    """``register_readers`` → ``readers``."""
    return hook.removeprefix("register_")


def plugin_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(components, errors)`` as plain rows: hook, name, plugin and where it came from."""
    from tracemine import plugins

    rows = [{"hook": hook_label(r.hook), "name": r.name, **r.origin.as_dict(), "from": r.origin.describe()}
            for r in plugins.listing()]
    errors = [{"hook": hook_label(e.hook) if e.hook else None, **e.origin.as_dict(), "from": e.origin.describe(),
               "error": e.error} for e in plugins.load_errors()]
    return rows, errors


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {\"plugins\": [...], \"errors\": [...]}.")
def plugins_command(as_json: bool) -> None:
    """List what the plugin hooks registered: detectors, readers, attribute conventions, publishers, report
    writers, embedders and summarisers — each with where it came from (a built-in module, or an installed
    distribution and its version). Plugins that failed to load are listed last.

    Third-party plugins are modules named in the entry-point group `tracemine` of an installed package
    (ARCHITECTURE.md, 'Plugins')."""
    rows, errors = plugin_rows()
    if as_json:
        click.echo(json.dumps({"plugins": rows, "errors": errors}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    table = Table(title="Plugins", title_justify="left")
    for column in ("hook", "name", "from"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(Text(row["hook"]), Text(row["name"]), Text(row["from"]))
    console.print(table)
    for error in errors:
        console.print(Text(f"not loaded: {error['plugin']} ({error['from']}): {error['error']}", style="bold red"))
