"""The command line: a thin click layer; each subcommand hands its arguments to audit.commands.NAME."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from audit import __version__
from audit.emulator.config import EmulatorConfig
from audit.errors import ExitStatus
from audit.jobtypes import NAMES as JOB_TYPES
from audit.options import DEFAULTS
from audit.report import FORMAT_NAMES
from audit.terminal import Echo

SCHEMA_NAMES = ("envelope", *JOB_TYPES, "error", "manifest")
EMULATOR = EmulatorConfig()


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


def guard(command: Callable[[Echo, Echo], ExitStatus], verbose: int = 0) -> NoReturn:
    """Runs one command with printers for stdout and stderr; its return value is the exit status.

    Every command goes through here: a UserError becomes one line on stderr and its exit code, any
    other exception one line and exit 1 (the traceback only with -v), never a traceback by default.
    Each subcommand imports its module inside `command`, so `--help` loads none of them and mypy
    checks every `execute` call.
    """
    from audit.errors import UserError
    from audit.terminal import Printer

    _logging(verbose)
    echo, err = Printer(err=False), Printer(err=True)
    try:
        code = command(echo, err)
    except UserError as exc:
        err(f"vod-audit: {exc}")
        sys.exit(exc.exit_code)
    except Exception as exc:
        # A bug, not bad input: one line by default, the traceback with -v.
        if verbose:
            raise
        err(f"vod-audit: internal error: {type(exc).__name__}: {exc} (run again with -v for details)")
        sys.exit(ExitStatus.ERROR)
    sys.exit(code)


def _logging(verbose: int) -> None:
    import logging

    from audit.terminal import PrintableFormatter

    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, handlers=[handler])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vod-audit")
def cli() -> None:
    """Audit Alibaba Cloud ApsaraVideo VOD jobs against a declarative manifest."""


def _connection_options(command: Callable[..., None]) -> Callable[..., None]:
    """Flags shared by `run` and `import`: where to call, as whom, and how hard."""
    positive = click.FloatRange(min=0, min_open=True)
    options = [
        click.option("--endpoint", help="Endpoint URL (default https://vod.<region>.aliyuncs.com)."),
        click.option("--region", help=f"Region ID (default {DEFAULTS.region})."),
        click.option("--profile", help="Profile of ~/.aliyun/config.json (any mode; see README)."),
        click.option("--sts-endpoint", help="STS endpoint URL for assumed roles (default sts.aliyuncs.com)."),
        click.option(
            "--signature",
            type=click.Choice(["v3", "v1"]),
            help=f"Signature version (default {DEFAULTS.signature}).",
        ),
        click.option("--qps", type=positive, help=f"Requests per second (default {DEFAULTS.qps:g})."),
        click.option(
            "--concurrency", type=click.IntRange(1, 256), help="Calls in flight (default: the qps, 4-64)."
        ),
        click.option("--timeout", type=positive, help=f"Seconds per call (default {DEFAULTS.timeout:g})."),
        click.option(
            "--retries", type=click.IntRange(0, 20), help=f"Retries per job (default {DEFAULTS.retries})."
        ),
        click.option(
            "--emulator",
            "emulator",
            type=click.Path(exists=True, dir_okay=False),
            help="Start the embedded emulator with this data file and audit it instead.",
        ),
        click.option(
            "--insecure-http", is_flag=True, default=None, help="Allow http:// to a non-loopback endpoint."
        ),
        click.option("-v", "--verbose", count=True, help="-v for info, -vv for debug logs on stderr."),
    ]
    for decorate in reversed(options):
        command = decorate(command)
    return command


_format_option = click.option(
    "--format",
    "format",
    multiple=True,
    type=click.Choice(FORMAT_NAMES),
    help="Report format; repeat for several (default all).",
)


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help=f"Report folder (default {DEFAULTS.out}).")
@_format_option
@_connection_options
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="SQLite state (default .vod-audit/state.db beside the manifest).",
)
@click.option("--refresh", is_flag=True, help="Query every job again, ignoring stored results.")
@click.option(
    "--fail-on",
    type=click.Choice(["any", "new"]),
    help=f"Exit 2 for any finding, or only for new ones (default {DEFAULTS.fail_on}).",
)
@click.option("--target", "targets", multiple=True, metavar="JOB_ID", help="Audit only this job; repeatable.")
@click.option(
    "--strict", is_flag=True, default=None, help="A response field the schema does not know is a violation."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress on stderr (default: when it is a terminal)."
)
def run(manifests: tuple[str, ...], verbose: int, **flags: Any) -> None:
    """Query every job of the manifests, validate, compare, write reports (exit 0/1/2/3)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import run

        return run.execute(manifests, flags, echo=echo, err=err)

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
@_connection_options
def import_(
    job_type: str | None, ids: str | None, events: tuple[str, ...], verbose: int, **flags: Any
) -> None:
    """Query the listed jobs and print a manifest that pins their current values."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import import_

        return import_.execute(job_type, ids, events, flags, echo=echo, err=err)

    guard(command, verbose)


class _DefaultGroup(click.Group):
    """A group whose first argument, when it names none of its subcommands, goes to `default`:
    `report RESULTS.json` renders one run, `report merge A.json B.json` merges several."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_DefaultGroup, default="render", subcommand_metavar="RESULTS.json | merge RESULTS.json...")
def report() -> None:
    """Re-render every report from a saved results.json with no API call (`report RESULTS.json
    --out DIR`), or merge several runs into one set (`report merge RESULTS.json... --out DIR`)."""


_out_option = click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for the reports."
)


@report.command("render", hidden=True)
@click.argument("results", type=click.Path(dir_okay=False))
@_out_option
@_format_option
def report_render(results: str, out: str, format: tuple[str, ...]) -> None:
    """Re-render every report from one saved results.json."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import report

        return report.render(results, out, format, echo=echo, err=err)

    guard(command)


@report.command("merge")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_out_option
@_format_option
def report_merge(results: tuple[str, ...], out: str, format: tuple[str, ...]) -> None:
    """Combine several runs' results.json (one per region, say) into one report set, each result
    keeping its provider."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import report

        return report.merge_runs(results, out, format, echo=echo, err=err)

    guard(command)


@cli.command()
@click.option("--state", default=".vod-audit/state.db", show_default=True, type=click.Path(dir_okay=False))
@click.option(
    "--format", "output", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--last", type=click.IntRange(0), help="Only the last N runs.")
def history(state: str, output: str, last: int | None) -> None:
    """Every run of a state: start, end, status, manifest digest, counts, changes, calls."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import history

        return history.execute(state, output, last, echo=echo, err=err)

    guard(command)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False))
def verify(folder: str) -> None:
    """Check a report folder against its SHA256SUMS (exit 0 all match, 2 a file differs, 1 none)."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import verify

        return verify.execute(folder, echo=echo, err=err)

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
@click.option(
    "--host",
    default=EMULATOR.host,
    show_default=True,
    help="Address to bind (loopback unless told otherwise).",
)
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML or JSON file with a `jobs:` list of bodies.",
)
@click.option("--jobs", "count", default=0, type=click.IntRange(0), help="Add N generated jobs.")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Seed of the generated jobs and of faults."
)
@click.option("--access-key-id", default=EMULATOR.access_key_id, show_default=True)
@click.option("--access-key-secret", default=EMULATOR.access_key_secret, show_default=True)
@click.option("--security-token", default=None, help="Require this STS token with the AccessKey.")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="ID:SECRET[:TOKEN]",
    help="Another account's AccessKey, limited separately at --qps; repeatable.",
)
@click.option(
    "--qps",
    default=EMULATOR.qps,
    show_default=True,
    type=click.FloatRange(0),
    help="Per-account limit; 0 is off.",
)
@click.option(
    "--token-lifetime",
    default=EMULATOR.token_lifetime,
    show_default=True,
    type=click.FloatRange(1),
    help="Seconds every temporary credential it issues (STS, metadata, credentials URI) lasts.",
)
@click.option(
    "--background-qps",
    default=EMULATOR.background_qps,
    type=click.FloatRange(0),
    help="Other traffic spending the same quota.",
)
@click.option(
    "--latency-ms",
    default=EMULATOR.latency_ms,
    type=click.FloatRange(0),
    help="Added to every answer, with ±1/3 jitter.",
)
@click.option(
    "--fault-rate",
    default=EMULATOR.fault_rate,
    type=click.FloatRange(0, 1),
    help="Share of requests that fail.",
)
@click.option(
    "--faults",
    default=",".join(EMULATOR.faults),
    show_default=True,
    help="Comma-separated fault kinds to draw from.",
)
@click.option(
    "--slow-seconds",
    default=EMULATOR.slow_seconds,
    show_default=True,
    type=click.FloatRange(0),
    help="How long a `slow` fault holds its reply.",
)
@click.option(
    "--unknown-job", type=click.Choice(["empty", "error"]), default=EMULATOR.unknown_job, show_default=True
)
@click.option("--max-age-days", default=EMULATOR.max_age_days, show_default=True, type=click.FloatRange(0))
@click.option(
    "--fail-job", "fail_jobs", multiple=True, metavar="JOB_ID", help="Every call for this job fails (500)."
)
def emulator(**flags: Any) -> None:
    """Serve the embedded VOD GetJobDetail emulator until interrupted."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import emulator

        return emulator.execute(flags, echo=echo, err=err)

    guard(command)
