"""Commands that work beside the audit: a whole state copied, VOD's callbacks received."""

from __future__ import annotations

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


@click.command()
@click.option(
    "--listen",
    default="127.0.0.1:8080",
    show_default=True,
    metavar="HOST:PORT",
    help="Where to listen (behind a TLS-terminating proxy in production).",
)
@click.option(
    "--events-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Where the day files DIR/YYYY-MM-DD.jsonl go (what `events: DIR/*.jsonl` reads).",
)
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
def receive(
    listen: str,
    events_dir: str,
    callback_url: str,
    auth_key_env: str | None,
    auth_key_file: str | None,
    max_skew: float,
) -> None:
    """Receive VOD's signed HTTP callbacks: 200 only once each body is durably stored."""

    def command(echo: Echo, err: Echo) -> ExitStatus:
        from audit.commands import receive

        return receive.execute(
            listen, events_dir, callback_url, (auth_key_env, auth_key_file), max_skew, echo=echo, err=err
        )

    guard(command)
