"""What the credential chain says when it finds nothing, and the account a role's ARN names."""

from __future__ import annotations

import re

from audit.common.errors import UserError

HOW_TO = (
    "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN "
    "for STS), configure a profile of ~/.aliyun/config.json (--profile NAME), or audit the embedded "
    "emulator with --emulator DATA; the docs' Credentials page lists every source in order"
)
# acs:ram::<account UID>:role/<name> (RAM ARN form; the AssumeRole page's RoleArn and AssumedRoleUser.Arn)
_ROLE_ARN = re.compile(r"acs:ram::(\d+):(?:role|assumed-role)/.+")


class CredentialError(UserError):
    """No usable credentials, with what to set."""


def account_of_arn(arn: object) -> str | None:
    """The account UID in a RAM role ARN (`acs:ram::UID:role/NAME`), else None."""
    found = _ROLE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    return found.group(1) if found else None
