"""`vod-audit notify`: the messages of a saved run sent again (or printed), and how every command says what became of them."""

from __future__ import annotations

import os
from collections.abc import Sequence

from audit.channels import ChannelSpec
from audit.commands.manifests import load_or_explain
from audit.errors import ExitStatus, UserError
from audit.notify.send import Options, tell_run
from audit.resultsfile import read_results
from audit.runparts import NotificationRecord
from audit.terminal import Echo


def execute(
    results: str,
    chosen: Sequence[str],
    manifests: Sequence[str],
    *,
    dry_run: bool,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    """Each channel whose trigger holds (or each `chosen`, whatever it says) told of the run in
    `results`; 0 when every one was sent (or printed), 1 when one failed."""
    run = read_results(results)
    specs = load_or_explain(tuple(manifests), err).notify if manifests else run.channels
    if not specs:
        where = ", ".join(manifests) if manifests else results
        raise UserError(f"{where} names no notify: channel; give --manifest FILE with a notify: section")
    check_chosen(chosen, specs)
    options = Options(chosen=set(chosen) if chosen else None, dry_run=dry_run, forced=bool(chosen))
    told = [t for t in tell_run(run, specs, options, os.environ) if t.record.status != "off"]
    for item in told:
        if item.preview:
            echo(f"--- {item.record.channel} ({item.record.type}): the message it would get")
            echo(item.preview)
    for line in record_lines([t.record for t in told]):
        echo(line)
    failed = [t for t in told if t.record.status == "failed"]
    return ExitStatus.ERROR if failed else ExitStatus.OK


def check_chosen(chosen: Sequence[str], specs: Sequence[ChannelSpec]) -> None:
    """Every name of --notify/--channel must be a channel of the manifest."""
    names = [spec.name for spec in specs]
    for name in chosen:
        if name not in names:
            known = ", ".join(names) or "none"
            raise UserError(f"--notify {name}: no such channel in the manifest's notify: ({known})")


def record_lines(records: Sequence[NotificationRecord]) -> list[str]:
    """`notified oncall (dingtalk, on new): sent`, one line per channel."""
    lines = []
    for record in records:
        why = f" ({record.why})" if record.why else ""
        lines.append(f"notify {record.channel} ({record.type}, on {record.on}): {record.status}{why}")
    return lines
