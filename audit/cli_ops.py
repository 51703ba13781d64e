"""Commands that work beside the audit: a whole state copied, VOD's events received or consumed."""

from __future__ import annotations

from collections.abc import Callable

import click

from audit.cli_flags import Duration
from audit.cli_guard import guard
from audit.common.errors import ExitStatus
from audit.common.terminal import Echo


@click.group()
def state() -> None:
    """Work on a whole state: copy it between SQLite and PostgreSQL."""


@state.command("copy")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option(
    "--from-schema", metavar="NAME", help="FROM's schema, when it is a PostgreSQL URL (default vod_audit)."
)
@click.option(
    "--to-schema", metavar="NAME", help="TO's schema, when it is a PostgreSQL URL (default vod_audit)."
)
def state_copy(source: str, target: str, from_schema: str | None, to_schema: str | None) -> None:
    """Copy the state at FROM (a path or postgresql:// URL) into an empty one at TO, counts verified."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import state

        return state.copy(source, target, (from_schema, to_schema), echo=echo)

    guard(command)


def _events_dir(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--events-dir",
        required=True,
        type=click.Path(file_okay=False),
        help="Where the day files DIR/YYYY-MM-DD.jsonl go (what `events: DIR/*.jsonl` reads).",
    )(command)


def _metrics_file(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--metrics-file",
        type=click.Path(dir_okay=False),
        help="Keep the counts by outcome in this file for node_exporter's textfile collector.",
    )(command)


@click.command()
@click.option(
    "--listen",
    default="127.0.0.1:8080",
    show_default=True,
    metavar="HOST:PORT",
    help="Where to listen (behind a TLS-terminating proxy in production).",
)
@_events_dir
@click.option(
    "--callback-url",
    required=True,
    metavar="URL",
    help="The callback URL as VOD was given it: what the signature covers.",
)
@click.option("--auth-key-env", metavar="NAME", help="The environment variable holding the AuthKey.")
@click.option("--auth-key-file", type=click.Path(dir_okay=False), help="A file holding the AuthKey.")
@click.option(
    "--max-skew",
    type=Duration(),
    default="300s",
    show_default=True,
    help="How far a delivery's timestamp may be from now.",
)
@_metrics_file
def receive(
    listen: str,
    events_dir: str,
    callback_url: str,
    auth_key_env: str | None,
    auth_key_file: str | None,
    max_skew: float,
    metrics_file: str | None,
) -> None:
    """Receive VOD's signed HTTP callbacks: 200 only once each body is durably stored."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import receive

        return receive.execute(
            listen,
            events_dir,
            callback_url,
            (auth_key_env, auth_key_file),
            max_skew,
            metrics_file,
            echo=echo,
            err=err,
        )

    guard(command)


@click.command()
@click.option("--queue", required=True, metavar="NAME", help="The queue VOD writes its events to.")
@click.option(
    "--endpoint",
    required=True,
    metavar="URL",
    help="The queue service's endpoint, https://ACCOUNT.mns.REGION.aliyuncs.com.",
)
@_events_dir
@click.option(
    "--once", is_flag=True, help="Drain the queue and exit once it is empty (for cron), else run on."
)
@click.option(
    "--wait",
    default=30,
    show_default=True,
    type=click.IntRange(1, 30),
    help="Seconds a receive waits for a message (long polling).",
)
@click.option("--profile", metavar="NAME", help="The credentials profile (default: the credential chain).")
@_metrics_file
def consume(
    queue: str,
    endpoint: str,
    events_dir: str,
    once: bool,
    wait: int,
    profile: str | None,
    metrics_file: str | None,
) -> None:
    """Consume VOD's events from a Simple Message Queue: each deleted only once durably stored."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import consume

        return consume.execute(
            queue,
            endpoint,
            events_dir,
            once=once,
            wait=wait,
            profile=profile,
            metrics_file=metrics_file,
            echo=echo,
            err=err,
        )

    guard(command)
