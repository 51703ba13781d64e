"""Loading the manifests a command was given: every problem printed, one sentence, or the manifest."""

from __future__ import annotations

from audit.common.errors import UserError
from audit.common.terminal import Echo
from audit.manifest.load import ManifestInvalid, load_manifests
from audit.manifest.model import Manifest


def load_or_explain(manifests: tuple[str, ...], err: Echo, *, cached: bool = False) -> Manifest:
    """The manifest, or every problem printed and a UserError: nothing is audited from a bad one."""
    try:
        return load_manifests(manifests, cached=cached)
    except ManifestInvalid as invalid:
        for problem in invalid.problems:
            err(str(problem))
        count = len(invalid.problems)
        raise UserError(
            f"{count} problem{'s' if count != 1 else ''} in the manifest; nothing was audited"
        ) from None
