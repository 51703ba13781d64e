"""A notification channel as a manifest's `notify:` declares it: where to send, when, never a secret."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from urllib.parse import quote

# Each platform a notify: entry may name (its `type:`), and whether it takes a signing secret:
# DingTalk's and Feishu's signature verification, our webhook's HMAC header. WeCom group robots and
# Slack incoming webhooks have no such secret (their URL is the credential); e-mail carries its
# password in the URL. The one declaration: the plug-ins (audit.notify.CHANNELS) and the manifest
# schema's enum are checked against it (tests/notify/test_platforms.py).
SIGNED_BY = {
    "dingtalk": True,
    "feishu": True,
    "wecom": False,
    "slack": False,
    "email": False,
    "webhook": True,
}
SIGNED = frozenset(name for name, signed in SIGNED_BY.items() if signed)
# new: a job has findings new since the last run; findings: any open finding; failure: the tool
# failed, the run was cut short or jobs got no answer; always: after every run.
TRIGGERS = ("new", "findings", "failure", "always")
# What a report_url template may name: the run's id, the audit's name, the run's UTC date.
URL_FIELDS = ("run_id", "audit", "date")
MAX_JOBS = 10  # jobs a message names by default, new first; "and N more" says the rest


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: its name and type, the trigger, the names of the variables (or files) that hold
    its URL and signing secret, and what the message says besides the run."""

    name: str
    type: str
    on: str = "new"
    url_env: str | None = None
    url_file: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    title: str | None = None
    report_url: str | None = None  # a template: https://ci.example/{run_id}/report.html
    max_jobs: int = MAX_JOBS
    to: tuple[str, ...] = ()  # e-mail recipients
    sender: str | None = None  # e-mail From (the manifest's `from:`)
    source: str = ""  # file:line:col of the entry

    def heading(self, audit: str) -> str:
        """The message's title: the channel's own, else vod-audit and the audit's name."""
        return self.title or f"vod-audit: {audit or 'audit'}"

    def link(self, run_id: str, audit: str, started_at: str) -> str | None:
        """The report link of a run: the template with its fields filled in."""
        if not self.report_url:
            return None
        fields = {"run_id": run_id, "audit": audit, "date": started_at[:10]}
        return self.report_url.format_map({name: quote(value, safe="") for name, value in fields.items()})


def url_template_problem(template: str) -> str | None:
    """Why `template` is not a report_url template (a field other than URL_FIELDS, a stray brace)."""
    try:
        fields = [
            (name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
        ]
    except ValueError as exc:
        return f"is not a template ({exc}); write a literal brace as {{{{ or }}}}"
    names = [name for name, _, _ in fields if name is not None]
    # A format spec or a conversion is code run on the value ({run_id:d} fails, {audit:>999999999}
    # asks for gigabytes): a field is its name alone.
    formatted = next(
        (name for name, spec, conversion in fields if name is not None and (spec or conversion)), None
    )
    if formatted is not None:
        return (
            f"formats {{{formatted}}}; a report_url field is its name alone, as {{{formatted.split('!')[0]}}}"
        )
    unknown = [name for name in names if name not in URL_FIELDS]
    if unknown:
        return f"names {{{unknown[0]}}}; a report_url may name {', '.join(f'{{{n}}}' for n in URL_FIELDS)}"
    return None


# What a secret pasted into a manifest looks like: a robot's URL with its token (DingTalk
# access_token=, WeCom key=, a Slack or Feishu hook path), a DingTalk signing secret (SEC + hex), a
# URL with a password.
_SECRET_LIKE = re.compile(
    r"(?i)(?:[?&](?:access_token|key|token|sign)=)|hooks\.slack\.com/services/|/open-apis/bot/v2/hook/"
    r"|^SEC[0-9a-f]{32,}$|://[^/\s@]+:[^/\s@]+@"
)


def looks_like_secret(value: str) -> bool:
    """Whether a manifest string carries what belongs in an environment variable."""
    return _SECRET_LIKE.search(value) is not None
