"""The command line: a thin click layer over the core modules, which it imports lazily."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from audit import __version__

SCHEMA_NAMES = ("envelope", "transcode", "snapshot", "ai", "workflow", "error", "manifest")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vod-audit")
def main() -> None:
    """Audit Alibaba Cloud ApsaraVideo VOD jobs against a declarative manifest."""


@main.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(manifests: tuple[str, ...]) -> None:
    """Check manifests offline: YAML, keys, field names, matchers, variables, duplicates."""
    from audit.manifest.commands import validate_manifests

    sys.exit(validate_manifests(manifests, echo=click.echo))


@main.group()
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


@main.command()
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
    sys.exit(code)
