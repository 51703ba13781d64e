"""`vod-audit notify`: the messages of a saved run sent again (or printed)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from audit.commands.manifests import load_or_explain
from audit.common.errors import ExitStatus, UserError
from audit.common.terminal import Echo
from audit.notify.said import check_chosen, record_lines
from audit.notify.send import Options, tell_run
from audit.results.reader import read_results


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
