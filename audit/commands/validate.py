"""`vod-audit validate`: every problem of the manifests as `file:line:col: message`, offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from audit.common.errors import ExitStatus
from audit.common.jobtypes import JOB_ID_SHAPE, MEDIA_FIELDS
from audit.common.terminal import Echo
from audit.common.words import counted
from audit.manifest.load import ManifestInvalid, load_manifests
from audit.run.waivers import SOON

SHOWN = 10  # ids of an odd shape named one by one; the count says the rest


def execute(paths: Sequence[str], *, echo: Echo, err: Echo) -> ExitStatus:
    """Prints each problem, or a one-line summary when there is none; returns 0 or 1."""
    try:
        manifest = load_manifests(paths)
    except ManifestInvalid as invalid:
        for problem in invalid.problems:
            echo(str(problem))
        count = len(invalid.problems)
        echo(f"{count} problem{'s' if count != 1 else ''} found")
        return ExitStatus.ERROR
    now = datetime.now(UTC)
    for waiver in manifest.waivers:  # not problems: the manifest is valid, but a reader must hear it
        if not waiver.live(now):
            echo(f"{waiver.position}: warning: the waiver expired on {waiver.expires}; it waives nothing")
        elif waiver.lapses - now <= SOON:
            echo(
                f"{waiver.position}: warning: the waiver expires on {waiver.expires}, within {SOON.days} days"
            )
    odd = [s for s in manifest.jobs if s.job_type in MEDIA_FIELDS and not JOB_ID_SHAPE.fullmatch(s.job_id)]
    for spec in odd[:SHOWN]:
        echo(
            f"{spec.position}: warning: {spec.job_id!r} is not shaped as the reference's JobIds (32 "
            "lower-case letters and digits); GetJobDetail will likely say not_found: check the id"
        )
    if len(odd) > SHOWN:
        echo(f"warning: and {len(odd) - SHOWN} more ids not shaped so")
    files = len(manifest.sources)
    read, skipped = manifest.events
    events = f" ({read} events read, {skipped} skipped)" if read else ""
    asked = len(manifest.queries)
    media = f", and {asked} media source{'s' if asked != 1 else ''} asked when a run starts" if asked else ""
    echo(f"ok: {counted(len(manifest.jobs), 'job')} in {counted(files, 'file')}{events}{media}")
    return ExitStatus.OK
