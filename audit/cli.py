"""The command line: a thin click layer over the core modules, which it imports lazily."""

from __future__ import annotations

import sys

import click

from audit import __version__

SCHEMA_NAMES = ("envelope", "transcode", "snapshot", "ai", "workflow", "error")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vod-audit")
def main() -> None:
    """Audit Alibaba Cloud ApsaraVideo VOD jobs against a declarative manifest."""


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
