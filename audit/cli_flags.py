"""Flags shared by subcommands, the emulator's flags, and `report`'s default subcommand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from audit.emulator.config import EmulatorConfig
from audit.options import DEFAULTS
from audit.report import FORMAT_NAMES

EMULATOR = EmulatorConfig()
Command = Callable[..., None]


def _stacked(options: Sequence[Callable[[Command], Command]], command: Command) -> Command:
    """`command` decorated with `options`, the first listed shown first in --help."""
    for decorate in reversed(options):
        command = decorate(command)
    return command


def connection_options(command: Command) -> Command:
    """Flags shared by `run` and `import`: where to call, as whom, and how hard."""
    positive = click.FloatRange(min=0, min_open=True)
    options = [
        click.option("--endpoint", help="Endpoint URL (default https://vod.<region>.aliyuncs.com)."),
        click.option("--region", help=f"Region ID (default {DEFAULTS.region})."),
        click.option("--profile", help="Profile of ~/.aliyun/config.json (any mode; see docs: Credentials)."),
        click.option("--sts-endpoint", help="STS endpoint URL for assumed roles (default sts.aliyuncs.com)."),
        click.option(
            "--signature",
            type=click.Choice(["v3", "v1"]),
            help=f"Signature version (default {DEFAULTS.signature}).",
        ),
        click.option("--qps", type=positive, help=f"Requests per second (default {DEFAULTS.qps:g})."),
        click.option(
            "--search-qps",
            type=positive,
            help=f"Discovery's SearchMedia calls per second (default {DEFAULTS.search_qps:g}).",
        ),
        click.option(
            "--list-qps",
            type=positive,
            help=f"Discovery's ListJobInfo calls per second (default {DEFAULTS.list_qps:g}).",
        ),
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
    return _stacked(options, command)


format_option = click.option(
    "--format",
    "format",
    multiple=True,
    type=click.Choice(FORMAT_NAMES),
    help="Report format; repeat for several (default all).",
)


STATE_HELP = (
    "The state: an SQLite file (default .vod-audit/state.db beside the manifest) or a postgresql:// URL "
    "(password from PGPASSWORD or ~/.pgpass; docs/state.md)."
)


def state_option(command: Command) -> Command:
    """`--state PATH|URL` and `--state-schema NAME`, for every command that reads or writes a state."""
    command = click.option(
        "--state-schema",
        metavar="NAME",
        help="PostgreSQL state: the schema of its tables (default vod_audit).",
    )(command)
    return click.option("--state", metavar="PATH|URL", help=STATE_HELP)(command)


out_option = click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for the reports."
)


def sign_options(command: Command) -> Command:
    """`--sign KEY` or `--sign-key PUB`: the set's SHA256SUMS signed (SHA256SUMS.sig, SSHSIG)."""
    options = [
        click.option(
            "--sign",
            "sign",
            metavar="KEY",
            help="Sign the set with this SSH private key file (passphrase: VOD_AUDIT_SIGN_PASSPHRASE).",
        ),
        click.option(
            "--sign-key",
            "sign_key",
            metavar="PUB",
            help="Sign with the ssh-agent key of this public key file.",
        ),
    ]
    return _stacked(options, command)


def emulator_options(command: Command) -> Command:
    """The flags of `vod-audit emulator`, each default from EmulatorConfig."""
    options = [
        click.option(
            "--host",
            default=EMULATOR.host,
            show_default=True,
            help="Address to bind (loopback unless told otherwise).",
        ),
        click.option(
            "--port",
            default=8080,
            show_default=True,
            type=click.IntRange(0, 65535),
            help="0 picks a free port.",
        ),
        click.option(
            "--data",
            type=click.Path(exists=True, dir_okay=False),
            help="YAML or JSON file with a `jobs:` list of bodies.",
        ),
        click.option("--jobs", "count", default=0, type=click.IntRange(0), help="Add N generated jobs."),
        click.option(
            "--jobs-csv",
            type=click.Path(dir_okay=False),
            help="Write every job it serves as a CSV job list (id,type) for a manifest's jobs_from.",
        ),
        click.option(
            "--seed", default=1, show_default=True, type=int, help="Seed of the generated jobs and of faults."
        ),
        click.option("--access-key-id", default=EMULATOR.access_key_id, show_default=True),
        click.option("--access-key-secret", default=EMULATOR.access_key_secret, show_default=True),
        click.option("--security-token", default=None, help="Require this STS token with the AccessKey."),
        click.option(
            "--account",
            "accounts",
            multiple=True,
            metavar="ID:SECRET[:TOKEN]",
            help="Another account's AccessKey, limited separately at --qps; repeatable.",
        ),
        *(
            # Each operation's own quota per account, as the service limits it.
            click.option(
                flag, default=default, show_default=True, type=click.FloatRange(0), help=f"{what}; 0 is off."
            )
            for flag, default, what in (
                ("--qps", EMULATOR.qps, "Per-account limit"),
                ("--search-qps", EMULATOR.search_qps, "SearchMedia's own per-account limit"),
                ("--list-qps", EMULATOR.list_qps, "ListJobInfo's own per-account limit"),
                ("--play-qps", EMULATOR.play_qps, "GetPlayInfo's own per-account limit"),
                ("--mezzanine-qps", EMULATOR.mezzanine_qps, "GetMezzanineInfo's own per-account limit"),
            )
        ),
        click.option(
            "--callback-url",
            metavar="URL",
            help="Send a VOD-style signed completion event per finished job to this URL (as VOD calls back).",
        ),
        click.option(
            "--auth-key-env", metavar="NAME", help="The environment variable holding the callbacks' AuthKey."
        ),
        click.option(
            "--queue",
            metavar="NAME",
            help="Serve a Simple Message Queue of this name and put a completion event per finished job in it.",
        ),
        click.option(
            "--queue-visibility",
            default=EMULATOR.queue_visibility,
            show_default=True,
            type=click.FloatRange(0.1),
            help="Seconds a received message stays hidden unless deleted (the queue's VisibilityTimeout).",
        ),
        click.option(
            "--queue-base64",
            is_flag=True,
            help="Put the events in the queue base64-encoded, not as raw JSON.",
        ),
        click.option(
            "--token-lifetime",
            default=EMULATOR.token_lifetime,
            show_default=True,
            type=click.FloatRange(1),
            help="Seconds every temporary credential it issues (STS, metadata, credentials URI) lasts.",
        ),
        click.option(
            "--background-qps",
            default=EMULATOR.background_qps,
            type=click.FloatRange(0),
            help="Other traffic spending the same quota.",
        ),
        click.option(
            "--latency-ms",
            default=EMULATOR.latency_ms,
            type=click.FloatRange(0),
            help="Added to every answer, with ±1/3 jitter.",
        ),
        click.option(
            "--fault-rate",
            default=EMULATOR.fault_rate,
            type=click.FloatRange(0, 1),
            help="Share of requests that fail.",
        ),
        click.option(
            "--faults",
            default=",".join(EMULATOR.faults),
            show_default=True,
            help="Comma-separated fault kinds to draw from.",
        ),
        click.option(
            "--slow-seconds",
            default=EMULATOR.slow_seconds,
            show_default=True,
            type=click.FloatRange(0),
            help="How long a `slow` fault holds its reply.",
        ),
        click.option(
            "--unknown-job",
            type=click.Choice(["empty", "error"]),
            default=EMULATOR.unknown_job,
            show_default=True,
        ),
        click.option(
            "--max-age-days", default=EMULATOR.max_age_days, show_default=True, type=click.FloatRange(0)
        ),
        click.option(
            "--fail-job",
            "fail_jobs",
            multiple=True,
            metavar="JOB_ID",
            help="Every call for this job fails (500).",
        ),
        click.option(
            "--fail-media",
            "fail_media",
            multiple=True,
            metavar="MEDIA_ID",
            help="Every ListJobInfo call for this media fails (500).",
        ),
    ]
    return _stacked(options, command)


if TYPE_CHECKING:  # generic for type checkers only: click before 8.2 cannot subscript it at run time
    _FloatParam = click.ParamType[float]
else:
    _FloatParam = click.ParamType


class Duration(_FloatParam):
    """A duration as the manifest writes one (90s, 10m, 2h, 1d), in seconds."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        from audit.common.timeutil import parse_duration

        seconds = parse_duration(value)
        if seconds is None:
            self.fail(f"{value!r} is not a duration such as 90s, 10m or 2h", param, ctx)
        return seconds


class DefaultGroup(click.Group):
    """A group whose first argument, when it names none of its subcommands, goes to `default`:
    `report RESULTS.json` renders one run, `report merge A.json B.json` merges several."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's help lists the default subcommand's options too: they are what the group's
        usage, without a subcommand name, takes."""
        super().format_options(ctx, formatter)
        command = self.commands[self.default]
        with click.Context(command, info_name=self.default, parent=ctx) as inner:
            options = [p for p in command.get_params(inner) if isinstance(p, click.Option)]
            rows = [row for p in options if (row := p.get_help_record(inner))]
        with formatter.section(f"Options of `{ctx.command_path} {self.default}` (also without its name)"):
            formatter.write_dl([row for row in rows if not row[0].startswith("-h")])


def asked_options(command: Command) -> Command:
    """Flags that change what a run asks and how it judges: `run` takes them, and `plan` takes the
    same so that it predicts that run."""
    options = [
        click.option("--refresh", is_flag=True, help="Query every job again, ignoring stored results."),
        click.option(
            "--fail-on",
            type=click.Choice(["any", "new"]),
            help=f"Exit 2 for any finding, or only for new ones (default {DEFAULTS.fail_on}).",
        ),
        click.option(
            "--target", "targets", multiple=True, metavar="JOB_ID", help="Audit only this job; repeatable."
        ),
        click.option(
            "--strict",
            is_flag=True,
            default=None,
            help="A response field the schema does not know is a violation.",
        ),
        click.option(
            "--unmanaged",
            type=click.Choice(["ignore", "report", "fail"]),
            help="What every media source says of a discovered job no list names (default: each source's).",
        ),
    ]
    return _stacked(options, command)


def run_options(command: Command) -> Command:
    """`run`'s flags of how the run holds its place and what it tells operations."""
    options = [
        click.option(
            "--metrics-file",
            metavar="PATH",
            help="Write the run's Prometheus metrics there (text format, replaced whole: node_exporter's textfile).",
        ),
        click.option(
            "--pushgateway", metavar="URL", help="Push the run's Prometheus metrics to this Pushgateway."
        ),
        click.option(
            "--pushgateway-job", metavar="NAME", help="The Pushgateway's job label (default vod-audit)."
        ),
        click.option(
            "--wait-lock",
            type=Duration(),
            help="Wait this long (e.g. 30m) for another run that holds the report folder or the audit's state.",
        ),
        click.option(
            "--allow-empty",
            is_flag=True,
            help="No job to audit is expected (verdict EMPTY, exit 0), as the manifest's allow_empty: true says.",
        ),
    ]
    return _stacked(options, command)
