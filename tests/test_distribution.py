"""How CI users install and run vod-audit: the GitHub Action, the GitLab component, the pre-commit
hook, the container's instructions, shell completion (issue #29)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.run.helpers import ROOT, clean_env

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def action_steps(inputs: dict[str, str]) -> list[tuple[str, dict[str, str], bool]]:
    """The run steps of action.yml as GitHub runs them: (script, env, whether it runs after a failed step),
    steps whose `if:` is false and `uses:` steps (other actions) left out."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | inputs
    missing = [name for name, spec in action["inputs"].items() if spec.get("required") and name not in inputs]
    assert not missing, missing

    def expand(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            expression = match[1]
            assert expression.startswith("inputs."), expression
            return values[expression.removeprefix("inputs.")]

        return EXPRESSION.sub(value, text)

    steps = []
    for step in action["runs"]["steps"]:
        condition = step.get("if", "")
        if "run" not in step or (
            "inputs." in condition
            and "== 'true'" in condition
            and values[condition.split("inputs.")[1].split()[0]] != "true"
        ):
            continue
        env = {k: expand(str(v)) for k, v in step.get("env", {}).items()}
        steps.append((expand(step["run"]), env, "always()" in condition))
    return steps


def run_action(tmp_path: Path, inputs: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """Every run step of the action in order, with GitHub's variables; (exit, outputs, step summary)."""
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    github = {
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp_path),
    }
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # vod-audit of this checkout is installed
    code = 0
    for script, env, always in action_steps(inputs):
        if code and not always:  # as GitHub does: after a failed step, only `always()` steps run
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", script], env=clean_env(**github, **env, PATH=path), cwd=tmp_path,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        code = code or done.returncode
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return code, outputs, summary.read_text()


def test_the_github_action_audits_gates_and_sets_its_outputs(tmp_path):
    extra = f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}"
    code, outputs, summary = run_action(
        tmp_path, {"manifest": str(ROOT / "examples" / "demo.yaml"), "args": extra, "cache-state": "false"}
    )
    document = json.loads((tmp_path / "vod-audit-reports" / "results.json").read_text())
    assert code == 2  # the demo's planted findings fail the gate, and so the step
    assert outputs["verdict"] == document["verdict"] == "FAIL" and outputs["exit-code"] == "2"
    assert outputs["gate"] == "failed"
    assert json.loads(outputs["counts"]) == document["counts"] and outputs["new"] == str(
        document["changes"]["new"]
    )
    assert summary.startswith("## vod-audit:")


def test_the_github_action_signs_with_a_key_from_a_secret_and_writes_it_nowhere(tmp_path):
    key = tmp_path / "k"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, stdin=subprocess.DEVNULL
    )
    secret = key.read_text()
    key.unlink()
    inputs = {
        "manifest": str(ROOT / "examples" / "demo.yaml"),
        "args": f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}",
        "signing-key": secret,
        "fail-on": "new",
    }
    run_action(tmp_path, inputs)
    out = tmp_path / "vod-audit-reports"
    signers = tmp_path / "allowed"
    signers.write_text(f'ci namespaces="vod-audit" {key.with_suffix(".pub").read_text()}')
    with (out / "SHA256SUMS").open("rb") as sums:
        checked = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "ci", "-n", "vod-audit", "-s", str(out / "SHA256SUMS.sig")],
            stdin=sums, capture_output=True,
        )  # fmt: skip
    assert checked.returncode == 0
    body = secret.splitlines()[1]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and body.encode() in p.read_bytes()]


def test_the_gitlab_component_declares_what_its_job_uses_and_its_script_runs(tmp_path):
    spec, job = yaml.safe_load_all((ROOT / "templates" / "vod-audit.yml").read_text())
    declared = set(spec["spec"]["inputs"])
    used = set(
        re.findall(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", (ROOT / "templates" / "vod-audit.yml").read_text())
    )
    assert used == declared
    values = {name: str(v.get("default", "")) for name, v in spec["spec"]["inputs"].items()}
    values |= {
        "manifest": str(ROOT / "examples" / "demo.yaml"),
        "install": "true",
        "args": f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}",
    }

    def expand(text: str) -> str:
        return re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", lambda m: values[m[1]], text)

    variables = {k: expand(v) for k, v in job["vod-audit"]["variables"].items()}
    script = "\n".join(expand(line) for line in job["vod-audit"]["script"])
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        env=clean_env(**variables, PATH=path, GITLAB_CI="true"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    dotenv = (tmp_path / "vod-audit.env").read_text().splitlines()
    assert dotenv == ["VOD_AUDIT_VERDICT=FAIL", "VOD_AUDIT_EXIT_CODE=2"]
    assert (tmp_path / expand(job["vod-audit"]["artifacts"]["reports"]["junit"])).is_file()


# Issue #42: with attest: true, the set's in-toto predicate is handed to actions/attest, its type and
# path as the statement says them.
def test_the_actions_attest_step_gets_the_sets_predicate(tmp_path):
    inputs = {"manifest": str(ROOT / "examples" / "demo.yaml"), "cache-state": "false", "attest": "true"}
    inputs["args"] = f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}"
    _, outputs, _ = run_action(tmp_path, inputs)
    statement = json.loads((tmp_path / "vod-audit-reports" / "attestation.intoto.json").read_text())
    assert outputs["type"] == statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert json.loads(Path(outputs["path"]).read_text()) == statement["predicate"]
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    attest = next(
        step for step in action["runs"]["steps"] if step.get("uses", "").startswith("actions/attest@")
    )
    assert attest["with"] == {
        "subject-path": "${{ inputs.out }}/*",
        "predicate-type": "${{ steps.predicate.outputs.type }}",
        "predicate-path": "${{ steps.predicate.outputs.path }}",
    }
    assert "inputs.attest == 'true'" in attest["if"]


# Issue #38, item 20: a run that exits 1 before writing its set, into a folder a runner kept, never
# shows the last run's verdict beside its own exit code.
def test_the_action_never_reports_a_kept_folders_verdict_as_this_runs(tmp_path):
    demo = {"manifest": str(ROOT / "examples" / "demo.yaml"), "cache-state": "false"}
    demo["args"] = f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}"
    code, outputs, _ = run_action(tmp_path, demo)
    assert code == 2 and outputs["verdict"] == "FAIL"
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\njobs:\n  - {id: j1, type: transcode, expect: {Stauts: x}}\n")
    (tmp_path / "github_output").write_text("")
    code, outputs, summary = run_action(tmp_path, {**demo, "manifest": str(broken)})
    assert code == 1
    assert (outputs["verdict"], outputs["exit-code"], outputs["counts"], outputs["new"]) == (
        "ERROR",
        "1",
        "{}",
        "0",
    )
    assert "wrote no report set (exit 1)" in summary.split("## vod-audit: FAIL")[-1]


# Issue #38, item 19: under GitLab, the CI script's dotenv stands beside the sealed set, not in it.
def test_the_ci_script_under_gitlab_leaves_the_set_verifiable(tmp_path):
    env = clean_env(
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        GITLAB_CI="true",
        VOD_AUDIT_MANIFEST=str(ROOT / "examples" / "demo.yaml"),
        VOD_AUDIT_ARGS=f"--emulator {ROOT / 'examples' / 'demo-data.yaml'}",
        VOD_AUDIT_STATE=str(tmp_path / "s.db"),
    )
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ci-audit.sh")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert (tmp_path / "vod-audit.env").read_text().startswith("VOD_AUDIT_VERDICT=FAIL\n")
    verified = subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(tmp_path / "vod-audit-reports")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout


def test_the_pre_commit_hook_passes_a_good_manifest_and_fails_a_broken_one(tmp_path):
    env = clean_env(
        PRE_COMMIT_HOME=str(tmp_path / "cache"), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    )

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "vod-audit-validate", "--files", *files],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=900,
        )  # fmt: skip

    good = try_repo("examples/demo.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: 1\njobs:\n  - {id: j1, type: transcode, expect: {Stauts: TranscodeSuccess}}\n"
    )
    failed = try_repo(str(broken))
    assert failed.returncode == 1 and "unknown field 'Stauts' for transcode jobs" in failed.stdout


def test_the_containerfile_builds_a_slim_non_root_image_of_the_wheel():
    """No image builder can reach a base image here (the network is closed but for package
    registries), so its instructions are checked: what they would build, not that they do."""
    lines = [line.strip() for line in (ROOT / "Containerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    froms = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert froms and all(
        re.fullmatch(r"python:3\.1\d-slim( AS \w+)?", f) or f.startswith("python:3.11-slim") for f in froms
    )
    assert not any(line.startswith("ADD ") for line in instructions)  # nothing fetched by URL
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-2:] == ['ENTRYPOINT ["vod-audit"]', 'CMD ["--help"]']
    assert any("pip install" in line and ".whl" in line for line in instructions)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_is_offered_for_each_shell(shell):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "vod-audit")], env={**os.environ, "_VOD_AUDIT_COMPLETE": f"{shell}_source"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "_VOD_AUDIT_COMPLETE" in done.stdout
