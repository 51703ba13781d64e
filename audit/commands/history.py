"""`vod-audit history`: every run a state recorded, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from audit.commands.manifests import load_or_explain
from audit.common.errors import ExitStatus, UserError
from audit.common.terminal import Echo
from audit.common.where import state_at
from audit.options import DEFAULT_STATE, resolve, state_path
from audit.state.backends import open_existing

COLUMNS = (
    "audit",
    "run_id",
    "started_at",
    "finished_at",
    "status",
    "manifest_digest",
    "counts",
    "changes",
    "calls",
    "retries",
    "throttles",
)


def execute(
    manifests: tuple[str, ...],
    state: tuple[str | None, str | None],
    audit: str | None,
    output: str,
    last: int | None,
    *,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    """The runs of the audit of `manifests` in the state a run of them uses; without manifests, of
    every audit (or `audit`) in `state` (a path or URL, default ./.vod-audit/state.db; and a schema)."""
    flags = {"state": state[0], "state_schema": state[1]}
    if manifests:
        manifest = load_or_explain(manifests, err)
        options = resolve(flags, manifest.provider, Path(manifests[0]).parent)
        path, audit = state_path(options, manifests), audit or manifest.audit
    else:
        path = state_at(state[0] or DEFAULT_STATE, state[1])
    opened = open_existing(path)
    if opened is None:
        hint = (
            "no run of these manifests has written it yet"
            if manifests
            else "a run keeps its state beside its manifest: give the manifest (`vod-audit history "
            "MANIFEST`) or --state"
        )
        raise UserError(f"{path}: no state there yet; {hint}")
    try:
        runs = [_run(row) for row in opened.history(audit)]
    finally:
        opened.close()
    if manifests and not runs:
        raise UserError(f"{path}: no run of the audit {audit!r} yet")
    if last is not None:
        runs = runs[-last:] if last else []
    echo(_render(runs, output).rstrip("\n"))
    return ExitStatus.OK


def _run(row: dict[str, object]) -> dict[str, Any]:
    run = {name: row.get(name) for name in COLUMNS}
    for name in ("counts", "changes"):
        run[name] = json.loads(str(run[name])) if run[name] else {}
    return run


def _render(runs: list[dict[str, Any]], output: str) -> str:
    if output == "json":
        return json.dumps({"runs": runs}, indent=1)
    flat = [{**run, "counts": _pairs(run["counts"]), "changes": _pairs(run["changes"])} for run in runs]
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return buffer.getvalue()
    several = len({run["audit"] for run in runs}) > 1
    shown = ("audit",) * several + (
        "started_at",
        "finished_at",
        "status",
        "counts",
        "changes",
        "calls",
        "retries",
        "throttles",
    )
    rows = [list(shown)] + [
        [str(run[name] if run[name] is not None else "") for name in shown] for run in flat
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(shown))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _pairs(mapping: dict[str, int]) -> str:
    return " ".join(f"{name} {count}" for name, count in mapping.items())
