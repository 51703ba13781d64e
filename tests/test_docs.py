"""The manual stays true: the MkDocs site builds strictly, and the examples in it and the README work."""

from __future__ import annotations

import glob
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from audit.manifest.load import load_manifests

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
EVENT = {"EventType": "AIMediaAuditComplete", "EventTime": "2026-11-24T00:00:00Z", "JobId": "ai-from-events"}


def blocks(kind: str) -> list[tuple[str, str]]:
    """(page:line, text) of every fenced block of `kind` in the docs and the README."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in re.finditer(rf"^```{kind}\n(.*?)^```", text, re.S | re.M):
            found.append((f"{page.name}:{text[: match.start()].count(chr(10)) + 1}", match.group(1)))
    return found


def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "architecture" / "index.html").is_file()


@pytest.mark.parametrize(("where", "text"), blocks("yaml"), ids=[w for w, _ in blocks("yaml")])
def test_every_yaml_example_parses_and_every_manifest_loads(tmp_path, where, text):
    document = yaml.safe_load(text)
    if not (isinstance(document, dict) and "version" in document):
        return  # a fragment of a manifest, or a CI workflow: parsing is what can be checked
    for included in document.get("include") or []:
        (tmp_path / included).write_text("jobs: []\n")
    for listing in document.get("jobs_from") or []:
        if "csv" in listing:
            (tmp_path / listing["csv"]).write_text("id,type\ncsv-job,transcode\n")
        if "events" in listing:
            if Path(listing["events"]).is_absolute():
                return  # a host's own log folder: nothing to create here
            target = tmp_path / listing["events"].replace("*", "x")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(EVENT) + "\n")
    (tmp_path / "m.yaml").write_text(text)
    env = {name: "value" for name in re.findall(r"\$\{env\.([A-Za-z_]+)\}", text)}
    manifest = load_manifests([tmp_path / "m.yaml"], env=env)
    assert manifest.jobs or manifest.queries, where  # a media source's jobs are found at run time


def test_the_multi_region_example_puts_each_job_on_its_provider(tmp_path):
    text = next(t for w, t in blocks("yaml") if w.startswith("providers.md") and "providers:" in t)
    (tmp_path / "m.yaml").write_text(text)
    (tmp_path / "eu-jobs.csv").write_text("id,type,provider\neu1,transcode,\nsg1,snapshot,sg\n")
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "sg-1.jsonl").write_text(json.dumps({**EVENT, "JobId": "ai1"}) + "\n")
    manifest = load_manifests([tmp_path / "m.yaml"], env={})
    providers = {spec.job_id: spec.provider for spec in manifest.jobs}
    assert providers == {
        "2dc1634e0000000000000000003f1d22": None,
        "7a1e00000000000000000000000c0ffe": "eu",
        "eu1": "eu",
        "sg1": "sg",
        "ai1": "sg",
    }
    assert manifest.providers["eu"]["qps"] == 10 and manifest.provider == {"region": "cn-shanghai"}


def runnable() -> list[tuple[str, str, list[str]]]:
    """(page:line, command, expected lines) of console examples whose files are in the repository."""
    found = []
    for where, text in blocks("console"):
        commands = re.split(r"^\$ ", text, flags=re.M)[1:]
        for chunk in commands:
            command, *output = chunk.rstrip("\n").split("\n")
            words = shlex.split(command)
            files = [w for w in words[1:] if "/" in w or w.endswith((".yaml", ".json"))]
            if words[0] != "vod-audit" or words[1] not in ("validate", "schema"):
                continue  # runs against a live service or emulator: shown, not replayed
            if files and all(glob.glob(str(ROOT / f)) for f in files):
                found.append((where, command, output))
    return found


@pytest.mark.parametrize(("where", "command", "expected"), runnable(), ids=[w for w, _, _ in runnable()])
def test_console_examples_print_what_the_docs_show(vod_audit, monkeypatch, where, command, expected):
    monkeypatch.chdir(ROOT)
    words = shlex.split(command)[1:]
    arguments = [m for w in words for m in (sorted(glob.glob(w)) if "*" in w else [w])]
    done = vod_audit(*arguments)
    assert done.stdout.splitlines() == expected, where


def test_the_ci_example_grants_least_privilege_uploads_sarif_and_gates_on_new():
    """Issue 26, item 10: the CI example a team copies is complete."""
    workflow = next(
        yaml.safe_load(text)
        for where, text in blocks("yaml")
        if where.startswith("nightly-ci.md") and "jobs:" in text
    )
    assert workflow["permissions"] == {"contents": "read", "id-token": "write", "security-events": "write"}
    steps = workflow["jobs"]["audit"]["steps"]
    audit = next(step for step in steps if step.get("name") == "audit")
    assert "--fail-on new" in audit["run"]
    sarif = next(
        step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif")
    )
    assert sarif["with"]["sarif_file"] == "reports/results.sarif" and sarif["if"] == "always()"


def test_the_report_screenshots_are_committed_and_shown():
    """Issue 26 acceptance: the report's top at 1366 px and 360 px, in the README and the docs."""
    for width in (1366, 360):
        image = ROOT / "docs" / "img" / f"report-{width}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(image.read_bytes()[16:20], "big") == width  # the PNG's own width
        assert f"docs/img/report-{width}.png" in (ROOT / "README.md").read_text()
        assert f"img/report-{width}.png" in (ROOT / "docs" / "reports.md").read_text()
