"""attestation.intoto.json: the set as an in-toto Statement v1, its test-result predicate following the verdict.

Statement: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md; predicate:
https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md (v0.1: result
PASSED, WARNED or FAILED; configuration; url; passedTests, warnedTests, failedTests).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.findings import Outcome
from audit.results.record import BAD_OUTCOMES, RunRecord

NAME = "attestation.intoto.json"
STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"


def statement(run: RunRecord, digests: Mapping[str, str]) -> dict[str, Any]:
    """The statement of a set (`digests`: each file's name and SHA-256): every file a subject; each
    job a test."""
    failed, warned, passed = [], [], []
    for result in run.results:
        name = f"{result.job_type}/{result.job_id}"
        if result.outcome in BAD_OUTCOMES or result.outcome is Outcome.ERROR:
            failed.append(name)
        elif result.outcome is Outcome.WAIVED or result.warnings:
            warned.append(name)
        else:
            passed.append(name)
    # FAIL, and every verdict that is no pass (INCOMPLETE, ERRORS, EMPTY), fails; findings only
    # waived, or warnings only, warn.
    said = (
        "PASSED" if run.verdict == "PASS" and not warned else "WARNED" if run.verdict == "PASS" else "FAILED"
    )
    predicate: dict[str, Any] = {
        "result": said,
        "configuration": [{"name": path, "digest": {"sha256": digest}} for path, digest in run.manifests],
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
    }
    url = next((link for c in run.channels if (link := c.link(run.run_id, run.audit, run.started_at))), None)
    if url:
        predicate["url"] = url
    return {
        "_type": STATEMENT,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in digests.items()],
        "predicateType": PREDICATE,
        "predicate": predicate,
    }


def write(run: RunRecord, out: Path, digests: Mapping[str, str]) -> Path:
    """The statement of the rest of the set (`digests` by file name), written into `out`."""
    return write_atomic(out / NAME, json.dumps(statement(run, digests), indent=1, ensure_ascii=False) + "\n")
