"""The plan printout (--dry-run), progress bars, and the JSON report plus a human summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from rich.text import Text

from hyperpage.migrate.plan import Plan
from hyperpage.migrate.verify import TableCheck

console = Console(stderr=True)


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s", style="cyan")


def progress_bars() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def print_plan(plan: Plan, target: str) -> None:
    out = Console() if Console().is_terminal else Console(width=200)  # a piped plan keeps whole lines
    out.print(f"[bold]Plan[/bold]: {plan.mode} mode, {plan.source} -> {target}")
    grid = RichTable("table (source -> target)", "rows", "column", "type", "decision", show_lines=False)
    for t in plan.tables:
        for i, c in enumerate(t.columns):
            name = (f"{t.source} -> {t.target}" if t.source != t.target else t.source) if i == 0 else ""
            col = c.source if c.source == c.target else f"{c.source} -> {c.target}"
            grid.add_row(name, f"{t.rows:,}" if i == 0 else "", col, c.pg_type, c.decision)
    out.print(grid)
    out.print("[bold]Table order[/bold]: " + ", ".join(t.target for t in plan.tables))
    if plan.create:
        out.print("[bold]DDL before the load[/bold]")
        for sql in plan.create:
            out.print(f"  {sql};", markup=False, highlight=False)
    if plan.post_load:
        out.print("[bold]DDL after the load[/bold] (optional steps become warnings if PostgreSQL refuses them)")
        for sql, optional in plan.post_load:
            out.print(f"  {sql};{'  -- optional' if optional else ''}", markup=False, highlight=False)
    for w in plan.warnings:
        out.print(f"[yellow]warning[/yellow]: {w}", highlight=False)


@dataclass
class Report:
    source: str
    target: str
    mode: str
    tables: list[TableCheck] = field(default_factory=list)
    fk_problems: list[str] = field(default_factory=list)
    sequence_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects: int = 0
    rejects_file: str | None = None
    seconds: float = 0.0
    copy_seconds: float = 0.0  # schema, copy and post-load DDL, before verification
    copied_rows: int = 0

    @property
    def verified(self) -> bool:
        return all(t.ok for t in self.tables) and not self.fk_problems and not self.sequence_problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "mode": self.mode,
            "verified": self.verified,
            "rejected_rows": self.rejects,
            "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 3),
            "copy_seconds": round(self.copy_seconds, 3),
            "copied_rows": self.copied_rows,
            "tables": [t.as_dict() for t in self.tables],
            "foreign_key_problems": self.fk_problems,
            "sequence_problems": self.sequence_problems,
            "warnings": self.warnings,
        }

    def write(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def summary(self) -> None:
        grid = RichTable("table", "source rows", "rejected", "target rows", "checksum", title="Verification")
        for t in self.tables:
            mark = "[green]match[/green]" if t.ok else "[red]MISMATCH[/red]"
            grid.add_row(t.table, f"{t.source_rows:,}", f"{t.rejected:,}", f"{t.target_rows:,}", mark)
        console.print(grid)
        for t in self.tables:
            if not t.ok:
                bound = "" if t.counts_exact else "at least "
                console.print(
                    f"[red]{t.table}[/red]: {bound}{t.missing_rows:,} source rows have no identical target "
                    f"row, {bound}{t.extra_rows:,} target rows are not in the source",
                    highlight=False,
                )
                for example in t.examples:
                    console.print(f"  {example}", markup=False, highlight=False)
        for p in self.fk_problems + self.sequence_problems:
            console.print(f"[red]problem[/red]: {p}", highlight=False)
        for w in self.warnings:
            console.print(f"[yellow]warning[/yellow]: {w}", highlight=False)
        if self.copied_rows and self.seconds:
            copy = self.copy_seconds or self.seconds
            console.print(
                f"copied {self.copied_rows:,} rows in {copy:.1f} s ({self.copied_rows / copy:,.0f} rows/s),"
                f" verified in {self.seconds - copy:.1f} s"
            )
        if self.rejects:
            where = f", written to {self.rejects_file}" if self.rejects_file else " (listed in the target's ledger)"
            console.print(f"[red]{self.rejects} rows rejected[/red]{where}", highlight=False)
        console.print(
            "[green]verified: every table matches[/green]" if self.verified else "[red]verification FAILED[/red]"
        )
