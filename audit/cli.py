"""The command line: a thin click layer over the core modules, which it imports lazily."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from audit import __version__

SCHEMA_NAMES = ("envelope", "transcode", "snapshot", "ai", "workflow", "error", "manifest")


def main() -> None:
    """Console entry point: a usage error is one line and exit 1 (SPEC §7), never click's exit 2."""
    try:
        cli.main(prog_name="vod-audit", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
        sys.exit(1)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"vod-audit: {exc.format_message()}{hint}", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"vod-audit: {exc.format_message()}", err=True)
        sys.exit(1)
    except click.Abort:
        click.echo("vod-audit: aborted", err=True)
        sys.exit(130)
    sys.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vod-audit")
def cli() -> None:
    """Audit Alibaba Cloud ApsaraVideo VOD jobs against a declarative manifest."""


def _connection_options(command: Callable[..., None]) -> Callable[..., None]:
    """Flags shared by `run` and `import`: where to call, as whom, and how hard."""
    options = [
        click.option("--endpoint", help="Endpoint URL (default https://vod.<region>.aliyuncs.com)."),
        click.option("--region", help="Region ID (default cn-shanghai)."),
        click.option("--profile", help="Profile of ~/.aliyun/config.json (modes AK and StsToken)."),
        click.option("--signature", type=click.Choice(["v3", "v1"]), help="Signature version (default v3)."),
        click.option(
            "--qps", type=click.FloatRange(min=0, min_open=True), help="Requests per second (default 15)."
        ),
        click.option(
            "--concurrency", type=click.IntRange(1, 256), help="Calls in flight (default: the qps, 4-64)."
        ),
        click.option(
            "--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds per call (default 10)."
        ),
        click.option("--retries", type=click.IntRange(0, 20), help="Retries per job (default 5)."),
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
    type=click.Choice(["html", "csv", "json", "junit", "md"]),
    help="Report format; repeat for several (default all).",
)


def _logging(verbose: int) -> None:
    import logging

    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Report folder (default reports).")
@_format_option
@_connection_options
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="SQLite state (default .vod-audit/state.db beside the manifest).",
)
@click.option("--refresh", is_flag=True, help="Query every job again, ignoring stored results.")
@click.option("--target", multiple=True, metavar="JOB_ID", help="Audit only this job; repeatable.")
@click.option(
    "--strict", is_flag=True, default=None, help="A response field the schema does not know is a violation."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress on stderr (default: when it is a terminal)."
)
def run(manifests: tuple[str, ...], verbose: int, **flags: object) -> None:
    """Query every job of the manifests, validate, compare, write reports (exit 0/1/2/3)."""
    from audit.run.command import run as run_audit

    _logging(verbose)
    _run_guarded(
        lambda: run_audit(manifests, flags, echo=click.echo, err=lambda line: click.echo(line, err=True))
    )


@cli.command("import")
@click.option(
    "--type", "job_type", required=True, type=click.Choice(["transcode", "snapshot", "ai", "workflow"])
)
@click.option(
    "--ids", "ids", required=True, metavar="FILE", help="One JobId per line; - reads standard input."
)
@_connection_options
def import_(job_type: str, ids: str, verbose: int, **flags: object) -> None:
    """Query the listed jobs and print a manifest that pins their current values."""
    from audit.run.command import import_command

    _logging(verbose)
    _run_guarded(
        lambda: import_command(
            job_type, ids, flags, echo=click.echo, err=lambda line: click.echo(line, err=True)
        )
    )


@cli.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the reports.")
@_format_option
def report(results: str, out: str, format: tuple[str, ...]) -> None:
    """Re-render every report from a saved results.json, with no API call."""
    from audit.report.command import rerender

    _run_guarded(lambda: rerender(results, out, format, click.echo))


@cli.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests offline: YAML, keys, field names, matchers, variables, duplicates."""
    from audit.manifest.commands import validate_manifests

    sys.exit(validate_manifests(manifests, echo=click.echo))


@cli.group()
def schema() -> None:
    """Validate saved GetJobDetail responses, or print the JSON Schemas."""


@schema.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--strict", is_flag=True, help="A field the schema does not know is a violation, not a note.")
def schema_validate(files: tuple[str, ...], strict: bool) -> None:
    """Validate saved GetJobDetail response bodies (exit 0 valid, 2 invalid, 1 unreadable)."""
    from audit.schema.commands import validate_files

    sys.exit(validate_files(files, strict=strict, echo=click.echo))


@schema.command("show")
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="envelope")
def schema_show(name: str) -> None:
    """Print one of the JSON Schemas."""
    from audit.schema.commands import show

    click.echo(show(name))


@cli.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless told otherwise)."
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
@click.option("--access-key-id", default="emulator-ak", show_default=True)
@click.option("--access-key-secret", default="emulator-secret", show_default=True)
@click.option("--security-token", default=None, help="Require this STS token with the AccessKey.")
@click.option(
    "--qps", default=15.0, show_default=True, type=click.FloatRange(0), help="Per-AccessKey limit; 0 is off."
)
@click.option(
    "--background-qps", default=0.0, type=click.FloatRange(0), help="Other traffic spending the same quota."
)
@click.option(
    "--latency-ms", default=0.0, type=click.FloatRange(0), help="Added to every answer, with ±1/3 jitter."
)
@click.option("--fault-rate", default=0.0, type=click.FloatRange(0, 1), help="Share of requests that fail.")
@click.option(
    "--faults",
    default="internal,unavailable,reset,truncated,slow",
    show_default=True,
    help="Comma-separated fault kinds to draw from.",
)
@click.option(
    "--slow-seconds",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="How long a `slow` fault holds its reply.",
)
@click.option("--unknown-job", type=click.Choice(["empty", "error"]), default="empty", show_default=True)
@click.option("--max-age-days", default=183.0, show_default=True, type=click.FloatRange(0))
@click.option(
    "--fail-job", "fail_jobs", multiple=True, metavar="JOB_ID", help="Every call for this job fails (500)."
)
def emulator(
    host: str,
    port: int,
    data: str | None,
    count: int,
    seed: int,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None,
    qps: float,
    background_qps: float,
    latency_ms: float,
    fault_rate: float,
    faults: str,
    slow_seconds: float,
    unknown_job: str,
    max_age_days: float,
    fail_jobs: tuple[str, ...],
) -> None:
    """Serve the embedded VOD GetJobDetail emulator until interrupted."""
    from audit.emulator.command import serve
    from audit.emulator.server import FAULTS, EmulatorConfig

    kinds = tuple(kind.strip() for kind in faults.split(",") if kind.strip())
    unknown = sorted(set(kinds) - set(FAULTS))
    if unknown or not kinds:
        raise click.BadParameter(
            f"unknown fault kind {', '.join(unknown) or '(none)'}; choose from {', '.join(FAULTS)}",
            param_hint="--faults",
        )
    if not data and not count:
        raise click.UsageError("give --data FILE, --jobs N, or both")
    config = EmulatorConfig(
        host=host,
        port=port,
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        security_token=security_token,
        qps=qps,
        background_qps=background_qps,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        faults=kinds,
        unknown_job=unknown_job,  # type: ignore[arg-type]
        max_age_days=max_age_days,
        slow_seconds=slow_seconds,
        seed=seed,
        failing_jobs=frozenset(fail_jobs),
    )
    _run_guarded(lambda: serve(config, data, count, seed, lambda line: click.echo(line, err=False)))


def _run_guarded(action: Callable[[], int]) -> None:
    """Runs a command body: a UserError becomes one line on stderr and exit 1, never a traceback."""
    from audit.errors import UserError

    try:
        code = action()
    except UserError as exc:
        click.echo(f"vod-audit: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # A bug, not bad input: one line by default, the traceback with -v.
        import logging

        if logging.getLogger().isEnabledFor(logging.INFO):
            raise
        click.echo(
            f"vod-audit: internal error: {type(exc).__name__}: {exc} (run again with -v for details)",
            err=True,
        )
        sys.exit(1)
    sys.exit(code)
