"""junit.xml: a testsuite per job type, a testcase per job, for CI test dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from audit.common.atomic import write_atomic
from audit.common.findings import Outcome
from audit.common.jobtypes import MEDIA_RESULT, NAMES
from audit.results.record import BAD_OUTCOMES, JobResult, RunRecord, ordered


def _clean(text: str) -> str:
    # XML 1.0 cannot carry most control characters, whatever the escaping.
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else f"\\x{ord(c):02x}" for c in text)


def _testcase(result: JobResult) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": f"vod.{result.job_type}", "name": _clean(result.job_id), "time": "0"}
    )
    if result.provider is not None:  # a named provider; a run of the default one alone stays lean
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", {"name": "provider", "value": _clean(result.provider)})
    messages = "\n".join(f"[{f.kind}] {f.message}" for f in result.counted)
    first = result.counted[0].message if result.counted else result.outcome.value
    if result.outcome in BAD_OUTCOMES:
        failure = ET.SubElement(case, "failure", {"type": result.outcome.value, "message": _clean(first)})
        failure.text = _clean(messages)
    elif result.outcome is Outcome.ERROR:
        error = ET.SubElement(case, "error", {"type": "error", "message": _clean(first)})
        error.text = _clean(messages)
    elif result.outcome is Outcome.PENDING:
        ET.SubElement(case, "skipped", {"message": _clean(f"pending: {result.status or 'not finished'}")})
    elif _skipped(result):
        reasons = "; ".join(dict.fromkeys(f.waived.reason for f in result.waived if f.waived))
        ET.SubElement(case, "skipped", {"message": _clean(f"waived: {reasons}")})
    beside = [f"warning: [{f.kind}] {f.message}" for f in result.warnings]
    beside += [f"waived ({f.waived.reason}): [{f.kind}] {f.message}" for f in result.waived if f.waived]
    if beside:
        # Beside the verdict, never part of it: a warning or a waived finding alone fails nothing.
        output = ET.SubElement(case, "system-out")
        output.text = _clean("\n".join(beside))
    return case


def _skipped(result: JobResult) -> bool:
    """Pending, or failing only in what waivers cover."""
    return result.outcome in (Outcome.PENDING, Outcome.WAIVED)


class JunitReport:
    name = "junit"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        root = ET.Element("testsuites", {"name": "vod-audit", "tests": str(len(run.results))})
        for job_type in (*NAMES, MEDIA_RESULT):
            results = [r for r in ordered(run.results) if r.job_type == job_type]
            if not results:
                continue
            suite = ET.SubElement(
                root,
                "testsuite",
                {
                    "name": f"vod-audit.{job_type}",
                    "tests": str(len(results)),
                    "failures": str(sum(r.outcome in BAD_OUTCOMES for r in results)),
                    "errors": str(sum(r.outcome is Outcome.ERROR for r in results)),
                    "skipped": str(sum(_skipped(r) for r in results)),
                    "time": "0",
                    "timestamp": run.started_at.removesuffix("Z"),
                },
            )
            for result in results:
                suite.append(_testcase(result))
        if run.empty:  # zero tests reads as a pass in CI: an audit of nothing says what it is
            suite = ET.SubElement(root, "testsuite", {"name": "vod-audit.audit", "tests": "1"})
            suite.set("errors" if not run.allow_empty else "skipped", "1")
            case = ET.SubElement(suite, "testcase", {"classname": "vod-audit", "name": "no job to audit"})
            ET.SubElement(case, "skipped" if run.allow_empty else "error", {"message": run.statement})
            root.set("tests", "1")
        ET.indent(root)
        text = ET.tostring(root, encoding="unicode", xml_declaration=False)
        return [write_atomic(out / "junit.xml", '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")]
