"""The manifest's `notify:` entries as channel specs; a secret written into one is refused, never echoed."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from audit.common.channels import MAX_JOBS, SIGNED, ChannelSpec, looks_like_secret, url_template_problem
from audit.manifest.positions import Document, Path_, Problem


def channels(
    entries: Iterable[tuple[Mapping[str, Any], Document, Path_, Path]], problems: list[Problem]
) -> list[ChannelSpec]:
    """Each well-formed entry as a ChannelSpec (schema problems were said by the schema check);
    problems of meaning are appended at their positions."""
    built: list[ChannelSpec] = []
    seen: dict[str, str] = {}
    for raw, document, path, base in entries:
        name, kind = raw.get("name"), raw.get("type")
        if not isinstance(name, str) or not isinstance(kind, str):
            continue
        before = len(problems)

        def problem(key: str, message: str, document: Document = document, path: Path_ = path) -> None:
            problems.append(Problem(document.at((*path, key)), message))

        if name in seen:
            problem("name", f"channel {name!r} is already declared at {seen[name]}")
        seen.setdefault(name, str(document.at(path)))
        for key, value in raw.items():
            if key in ("url_env", "secret_env"):
                continue  # a variable's name, or the schema check said it is not one (unechoed)
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and looks_like_secret(text) for text in texts):
                problem(
                    key,
                    f"{key}: this looks like a webhook URL or secret (the value is not shown); secrets "
                    "never go in a manifest: put it in an environment variable and name it with "
                    "url_env or secret_env",
                )
        if ("url_env" in raw) == ("url_file" in raw):
            problem("type", "give the channel's URL as url_env: VARIABLE or url_file: PATH (one of them)")
        if "secret_env" in raw and "secret_file" in raw:
            problem("secret_file", "give the secret as secret_env or secret_file, not both")
        if kind not in SIGNED and ("secret_env" in raw or "secret_file" in raw):
            credential = (
                "its password goes in the URL (smtp://user:password@host:587)"
                if kind == "email"
                else "its URL is its credential"
            )
            problem(
                "secret_env" if "secret_env" in raw else "secret_file",
                f"{'an' if kind == 'email' else 'a'} {kind} channel signs nothing: {credential}; drop the secret",
            )
        if kind == "webhook" and "secret_env" not in raw and "secret_file" not in raw:
            problem("type", "a webhook channel signs every message: give secret_env or secret_file")
        if kind == "email":
            for key in ("to", "from"):
                if key not in raw:
                    problem("type", f"an email channel needs {key}:")
        else:
            for key in ("to", "from"):
                if key in raw:
                    problem(key, f"{key}: is for email channels only")
        template = raw.get("report_url")
        if isinstance(template, str) and (why := url_template_problem(template)):
            problem("report_url", f"report_url {why}")
        if len(problems) > before:
            continue
        built.append(
            ChannelSpec(
                name=name,
                type=kind,
                on=str(raw.get("on", "new")),
                url_env=_text(raw, "url_env"),
                url_file=_file(raw, "url_file", base),
                secret_env=_text(raw, "secret_env"),
                secret_file=_file(raw, "secret_file", base),
                title=_text(raw, "title"),
                report_url=_text(raw, "report_url"),
                max_jobs=int(raw.get("max_jobs", MAX_JOBS)),
                to=tuple(str(address) for address in raw.get("to", ())),
                sender=_text(raw, "from"),
                source=str(document.at(path)),
            )
        )
    return built


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _file(raw: Mapping[str, Any], key: str, base: Path) -> str | None:
    """A file named relative to the manifest that names it, as the path a later process opens: made
    absolute, its symbolic links left for the opening to follow (a mounted secret rotates by moving a
    link: the path a cached manifest keeps must reach tomorrow's file, not tonight's)."""
    value = _text(raw, key)
    return None if value is None else os.path.abspath(base / value)
