"""The command line: a thin click layer; each subcommand hands its arguments to audit.commands.NAME."""

from __future__ import annotations

import sys
from typing import Any

import click

from audit import __version__
from audit.cli_flags import (
    DefaultGroup,
    asked_options,
    connection_options,
    emulator_options,
    format_option,
    out_option,
    run_options,
    sign_options,
    state_option,
)
from audit.cli_guard import guard
from audit.common.errors import ExitStatus
from audit.common.jobtypes import NAMES as JOB_TYPES
from audit.common.schemafiles import PUBLIC_SCHEMAS
from audit.common.terminal import Echo
from audit.options import DEFAULTS

SCHEMA_NAMES = tuple(PUBLIC_SCHEMAS)  # what `schema show NAME` offers: every schema file users may read


def main() -> None:
    """Console entry point: a usage error is one line and exit 1, never click's exit 2 (2 means findings)."""
    try:
        cli.main(prog_name="vod-audit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
        sys.exit(ExitStatus.ERROR)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"vod-audit: {exc.format_message()}{hint}", err=True)
        sys.exit(ExitStatus.ERROR)
    except click.ClickException as exc:
        click.echo(f"vod-audit: {exc.format_message()}", err=True)
        sys.exit(ExitStatus.ERROR)
    except click.Abort:
        click.echo("vod-audit: aborted", err=True)
        sys.exit(ExitStatus.ABORTED)
    sys.exit(ExitStatus.OK)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vod-audit")
def cli() -> None:
    """Audit Alibaba Cloud ApsaraVideo VOD jobs against a declarative manifest."""


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help=f"Report folder (default {DEFAULTS.out}).")
@format_option
@sign_options
@connection_options
@state_option
@asked_options
@click.option(
    "--progress/--no-progress", default=None, help="Progress on stderr (default: when it is a terminal)."
)
@click.option(
    "--notify",
    "notify",
    multiple=True,
    metavar="NAME",
    help="Tell only this channel of the manifest's notify: section; repeatable (default: every channel).",
)
@click.option("--no-notify", is_flag=True, help="Tell no channel.")
@run_options
@click.option(
    "--notify-strict",
    is_flag=True,
    help="Exit 1 when a notification could not be delivered (default: say so).",
)
def run(
    manifests: tuple[str, ...], verbose: int, sign: str | None, sign_key: str | None, **flags: Any
) -> None:
    """Query every job of the manifests, validate, compare, write reports (exit 0/1/2/3)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import run

        return run.execute(manifests, flags, signing=(sign, sign_key), echo=echo, err=err)

    guard(command, verbose)


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@connection_options
@state_option
@asked_options
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The plan as lines to read, or one JSON document to diff and gate on.",
)
@click.option(
    "--discover", is_flag=True, help="Ask the service for the media sources' jobs (no GetJobDetail)."
)
@click.option("--budget", metavar="DURATION", help="The nightly window, e.g. 60m: say whether the run fits.")
def plan(
    manifests: tuple[str, ...], verbose: int, discover: bool, budget: str | None, output: str, **flags: Any
) -> None:
    """What a run would do: jobs, calls and their time at the limits, credentials, changes (exit 0/1)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import plan

        return plan.execute(
            manifests, flags, discover=discover, budget=budget, as_json=output == "json", echo=echo, err=err
        )

    guard(command, verbose)


@cli.command("import")
@click.option(
    "--type",
    "job_type",
    type=click.Choice(JOB_TYPES),
    help="The jobs' type (with --ids; a filter with --events).",
)
@click.option("--ids", "ids", metavar="FILE", help="One JobId per line; - reads standard input.")
@click.option(
    "--events",
    multiple=True,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="VOD event notification bodies (JSON Lines or an array, .gz too) naming the jobs; repeatable.",
)
@click.option(
    "--media",
    "media",
    multiple=True,
    metavar="MEDIA_ID",
    help="The jobs ListJobInfo lists for this media (of --type, else all three); repeatable.",
)
@click.option(
    "--media-file", metavar="FILE", help="Media ids, one per line, as --media; - reads standard input."
)
@connection_options
def import_(
    job_type: str | None,
    ids: str | None,
    events: tuple[str, ...],
    media: tuple[str, ...],
    media_file: str | None,
    verbose: int,
    **flags: Any,
) -> None:
    """Query the listed (or a media's) jobs and print a manifest that pins their current values."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import import_

        asked = import_.Asked(job_type, ids, events, media, media_file)
        return import_.execute(asked, flags, echo=echo, err=err)

    guard(command, verbose)


@cli.group(cls=DefaultGroup, default="render", subcommand_metavar="RESULTS.json | merge RESULTS.json...")
def report() -> None:
    """Re-render every report from a saved results.json with no API call (`report RESULTS.json
    --out DIR`), or merge several runs into one set (`report merge RESULTS.json... --out DIR`)."""


@report.command("render")
@click.argument("results", type=click.Path(dir_okay=False))
@out_option
@format_option
@sign_options
def report_render(
    results: str, out: str, format: tuple[str, ...], sign: str | None, sign_key: str | None
) -> None:
    """Re-render every report from one saved results.json."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import report

        return report.render(results, out, format, signing=(sign, sign_key), echo=echo, err=err)

    guard(command)


@report.command("merge")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@out_option
@format_option
@sign_options
def report_merge(
    results: tuple[str, ...], out: str, format: tuple[str, ...], sign: str | None, sign_key: str | None
) -> None:
    """Combine several runs' results.json (one per region, say) into one report set, each result
    keeping its provider."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import report

        return report.merge_runs(results, out, format, signing=(sign, sign_key), echo=echo, err=err)

    guard(command)


@cli.command()
@click.argument("manifests", nargs=-1, metavar="[MANIFEST...]", type=click.Path(dir_okay=False))
@state_option
@click.option("--audit", metavar="NAME", help="Only this audit's runs (default with MANIFEST: its audit).")
@click.option(
    "--format", "output", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--last", type=click.IntRange(0), help="Only the last N runs.")
def history(
    manifests: tuple[str, ...],
    state: str | None,
    state_schema: str | None,
    audit: str | None,
    output: str,
    last: int | None,
) -> None:
    """The runs of an audit: start, end, status, manifest digest, counts, changes, calls."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import history

        return history.execute(manifests, (state, state_schema), audit, output, last, echo=echo, err=err)

    guard(command)


@cli.command()
@click.argument("results", metavar="RESULTS.json", type=click.Path(dir_okay=False))
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="Send to this channel whatever its on: says; repeatable (default: each whose on: holds).",
)
@click.option(
    "--manifest",
    "manifests",
    multiple=True,
    metavar="FILE",
    help="Take the channels from this manifest's notify: (default: those the run recorded).",
)
@click.option("--dry-run", is_flag=True, help="Print each message instead of sending it (no secret needed).")
@click.option("-v", "--verbose", count=True, help="Log each request (secrets withheld); -vv for debug.")
def notify(
    results: str, channels: tuple[str, ...], manifests: tuple[str, ...], dry_run: bool, verbose: int
) -> None:
    """Send (or print) the messages of a saved run: to try a channel, or to send again (exit 0/1)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import notify

        return notify.execute(results, channels, manifests, dry_run=dry_run, echo=echo, err=err)

    guard(command, verbose)


@cli.command()
@click.argument("folders", nargs=-1, required=True, metavar="DIR...", type=click.Path(file_okay=False))
@click.option(
    "--allowed-signers",
    metavar="FILE",
    help="OpenSSH allowed_signers file: also check SHA256SUMS.sig (ssh-keygen -Y verify).",
)
@click.option("--identity", metavar="ID", help="The signer the signature must be by (default: any allowed).")
@click.option("--chain", is_flag=True, help="Several folders, oldest first: each must follow the one before.")
def verify(folders: tuple[str, ...], allowed_signers: str | None, identity: str | None, chain: bool) -> None:
    """Check a report folder against its SHA256SUMS (exit 0 all match, 2 a file differs, 1 none)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import verify

        return verify.execute(
            folders, allowed_signers=allowed_signers, identity=identity, chain=chain, echo=echo, err=err
        )

    guard(command)


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests offline: YAML, keys, field names, matchers, variables, duplicates."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import validate

        return validate.execute(manifests, echo=echo, err=err)

    guard(command)


@cli.group()
def schema() -> None:
    """Validate saved GetJobDetail responses, or print the JSON Schemas."""


@schema.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--strict", is_flag=True, help="A field the schema does not know is a violation, not a note.")
def schema_validate(files: tuple[str, ...], strict: bool) -> None:
    """Validate saved GetJobDetail response bodies (exit 0 valid, 2 invalid, 1 unreadable)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import schema_validate

        return schema_validate.execute(files, strict=strict, echo=echo, err=err)

    guard(command)


@schema.command("show")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="envelope")
def schema_show(name: str) -> None:
    """Print one of the JSON Schemas."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import schema_show

        return schema_show.execute(name, echo=echo, err=err)

    guard(command)


@cli.command()
@emulator_options
def emulator(**flags: Any) -> None:
    """Serve the embedded VOD GetJobDetail emulator until interrupted."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import emulator

        return emulator.execute(flags, echo=echo, err=err)

    guard(command)


def _more() -> None:
    """The commands defined beside this module (audit/cli_ops.py), added to the group."""
    from audit.cli_ops import consume, receive, state

    cli.add_command(state)
    cli.add_command(receive)
    cli.add_command(consume)


_more()
