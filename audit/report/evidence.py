"""evidence.json: what an auditor needs to judge a set's completeness, sealed with it by SHA256SUMS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.findings import Outcome
from audit.results.record import RunRecord

FORMAT = 1


def evidence(run: RunRecord) -> dict[str, Any]:
    """Who ran what, against which accounts, how many jobs were expected and how many answered, and
    which set came before (the digest of its SHA256SUMS: `vod-audit verify --chain` walks them)."""
    answered = sum(1 for r in run.results if r.outcome is not Outcome.ERROR)
    return {
        "format": FORMAT,
        "tool": {"name": "vod-audit", "version": run.tool_version},
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "manifests": [{"path": path, "sha256": digest} for path, digest in run.manifests],
        "manifest_digest": run.manifest_digest,
        "sources": dict(run.sources),  # planned jobs by the kind of list that named them
        "jobs": {
            "expected": run.planned,
            "audited": len(run.results),
            "answered": answered,  # the service answered (a job it does not know included)
            "without_answer": run.planned - answered,
        },
        "complete": not run.incomplete,
        "endpoints": sorted({p.endpoint for p in run.providers if p.endpoint} or {run.endpoint}),
        "emulator": run.emulator,
        "accounts": [
            {"provider": p.provider, "access_key_id": p.access_key_id, "account": p.account}
            for p in run.providers
        ],
        "verdict": run.verdict,  # the state of the jobs
        "gate": run.gate_document,
        "exit_code": int(run.exit_code),
        "previous": {"sha256sums": run.previous_sums},
    }


class EvidenceReport:
    """Written with every set, whatever formats were asked for."""

    name = "evidence"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        return [
            write_atomic(
                out / "evidence.json", json.dumps(evidence(run), indent=1, ensure_ascii=False) + "\n"
            )
        ]
