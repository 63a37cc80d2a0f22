"""A plan as a rich table, one row per resource, in the order applying would go."""

from __future__ import annotations

from rich.table import Table

from ember.apps.plan import CREATE, DELETE, UNCHANGED, Plan

STYLES = {CREATE: "green", DELETE: "red", UNCHANGED: "dim"}


def plan_table(plan: Plan) -> Table:
    table = Table(title=plan.summary(), title_justify="left")
    for column in ("kind", "resource", "action", "what changes"):
        table.add_column(column)
    for step in plan.steps:
        style = STYLES.get(step.action, "yellow")
        table.add_row(step.kind, step.logical_id or step.key, f"[{style}]{step.action}[/{style}]",
                      ", ".join(step.changes))
    return table
