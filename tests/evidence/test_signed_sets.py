"""Signed report sets: SHA256SUMS.sig checked by stock OpenSSH and by `vod-audit verify`, evidence.json
counts, and a chain of nights that notices a missing one (issue #29)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import sample_jobs
from tests.run.helpers import clean_env, cli, emulated_args, write_data, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

PASSPHRASE = "correct horse battery staple 7"


def keypair(folder: Path, kind: str, passphrase: str = "") -> Path:
    key = folder / f"id_{kind}"
    bits = ["-b", "3072"] if kind == "rsa" else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *bits, "-N", passphrase, "-C", f"{kind}@test", "-f", str(key)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return key


def allowed_signers(folder: Path, identity: str, *keys: Path) -> Path:
    path = folder / "allowed_signers"
    path.write_text(
        "".join(f'{identity} namespaces="vod-audit" {k.with_suffix(".pub").read_text()}' for k in keys)
    )
    return path


def run_signed(tmp_path: Path, out: Path, *flags: str, env: dict[str, str] | None = None):
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    data = write_data(tmp_path / "data.json", sample_jobs())
    args = emulated_args(manifest, data, out, tmp_path / "s.db", "--no-progress", *flags)
    return cli(*args, env=env or clean_env())


def ssh_verify(
    out: Path, signers: Path, identity: str, namespace: str = "vod-audit"
) -> subprocess.CompletedProcess[str]:
    with (out / "SHA256SUMS").open("rb") as sums:
        return subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", identity, "-n", namespace, "-s", str(out / "SHA256SUMS.sig")],
            stdin=sums, capture_output=True, text=True,
        )  # fmt: skip


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_a_signed_set_verifies_with_stock_openssh_and_with_verify(tmp_path, kind):
    key = keypair(tmp_path, kind)
    out = tmp_path / "out"
    done = run_signed(tmp_path, out, "--sign", str(key))
    assert done.returncode == 0, done.stderr
    signers = allowed_signers(tmp_path, "auditor@example", key)
    assert ssh_verify(out, signers, "auditor@example").returncode == 0  # no vod-audit needed
    checked = cli("verify", str(out), "--allowed-signers", str(signers))
    assert checked.returncode == 0 and "SHA256SUMS.sig: OK (signed by auditor@example)" in checked.stdout
    named = cli("verify", str(out), "--allowed-signers", str(signers), "--identity", "auditor@example")
    assert named.returncode == 0


def test_every_way_a_signature_can_fail_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    key, stranger = keypair(tmp_path, "ed25519"), keypair(tmp_path / "elsewhere", "ecdsa")
    out = tmp_path / "out"
    assert run_signed(tmp_path, out, "--sign", str(key)).returncode == 0
    signers = allowed_signers(tmp_path, "auditor@example", key)

    def verify(folder: Path = out, allowed: Path = signers, *extra: str):
        return cli("verify", str(folder), "--allowed-signers", str(allowed), *extra)

    # A key not in allowed_signers; another identity; the wrong namespace (stock OpenSSH too).
    strangers = tmp_path / "strangers"
    strangers.write_text(f'auditor@example namespaces="vod-audit" {stranger.with_suffix(".pub").read_text()}')
    assert verify(out, strangers).returncode == 2
    assert verify(out, signers, "--identity", "someone@else").returncode == 2
    assert ssh_verify(out, signers, "auditor@example", namespace="other").returncode != 0
    # One changed byte in any file; in SHA256SUMS wherever it falls: a digest's digit, a digit
    # turned into a non-digit (the line no longer parses), the separator, a file's name.
    places = [("SHA256SUMS", at) for at in (0, 1, 64, 65, 67)]
    for name, at in [*places, ("results.json", None), ("evidence.json", None)]:
        copy = tmp_path / f"copy-{name}-{at}"
        shutil.copytree(out, copy)
        data = bytearray((copy / name).read_bytes())
        at = len(data) // 2 if at is None else at
        data[at] = ord("g") if at == 1 else data[at] ^ 1
        (copy / name).write_bytes(bytes(data))
        for folder_only in (False, True):
            done = cli("verify", str(copy)) if folder_only else verify(copy)
            assert done.returncode == 2 and "FAILED" in done.stdout, (name, at, done.stdout, done.stderr)
    # The signature missing while signers are given.
    bare = tmp_path / "bare"
    shutil.copytree(out, bare)
    (bare / "SHA256SUMS.sig").unlink()
    done = verify(bare)
    assert done.returncode == 2 and "SHA256SUMS.sig: FAILED (missing: the set is not signed)" in done.stdout


def test_a_passphrase_comes_from_the_environment_and_no_secret_reaches_output(tmp_path):
    key = keypair(tmp_path, "ed25519", PASSPHRASE)
    out = tmp_path / "out"
    refused = run_signed(tmp_path, out, "--sign", str(key))
    assert refused.returncode == 1 and "VOD_AUDIT_SIGN_PASSPHRASE" in refused.stderr
    env = clean_env(VOD_AUDIT_SIGN_PASSPHRASE=PASSPHRASE)
    done = run_signed(tmp_path, out, "--sign", str(key), "-vv", env=env)
    assert done.returncode == 0, done.stderr
    assert ssh_verify(out, allowed_signers(tmp_path, "a@b", key), "a@b").returncode == 0
    material = key.read_text().splitlines()[1:-1]  # the private key's base64 body
    written = b"".join(p.read_bytes() for p in out.iterdir()) + (tmp_path / "s.db").read_bytes()
    for secret in [PASSPHRASE, *material]:
        assert secret not in done.stdout + done.stderr and secret.encode() not in written
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing left behind


def test_signing_through_ssh_agent_never_shows_its_socket(tmp_path):
    key = keypair(tmp_path, "ed25519")
    agent = subprocess.run(
        ["ssh-agent", "-s", "-a", str(tmp_path / "agent.sock")], capture_output=True, text=True, check=True
    )
    pid = next(
        line.split("=")[1].split(";")[0] for line in agent.stdout.split() if line.startswith("SSH_AGENT_PID=")
    )
    try:
        env = clean_env(SSH_AUTH_SOCK=str(tmp_path / "agent.sock"))
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        out = tmp_path / "out"
        done = run_signed(tmp_path, out, "--sign-key", str(key.with_suffix(".pub")), env=env)
        assert done.returncode == 0, done.stderr
        assert ssh_verify(out, allowed_signers(tmp_path, "a@b", key), "a@b").returncode == 0
        assert "agent.sock" not in done.stdout + done.stderr
        assert b"agent.sock" not in b"".join(p.read_bytes() for p in out.iterdir())
    finally:
        os.kill(int(pid), 15)


def test_evidence_counts_equal_the_runs_and_a_chain_of_nights_notices_a_missing_one(tmp_path):
    nights = [tmp_path / f"night{n}" for n in (1, 2, 3)]
    for night in nights:
        assert run_signed(tmp_path, night).returncode == 0
    evidence = json.loads((nights[2] / "evidence.json").read_text())
    results = json.loads((nights[2] / "results.json").read_text())
    assert (
        evidence["jobs"]["expected"]
        == results["planned"]
        == len(results["results"])
        == evidence["jobs"]["audited"]
    )
    assert evidence["sources"] == {"jobs": len(sample_jobs())}
    assert evidence["run_id"] == results["run_id"] and evidence["tool"]["version"] == results["tool_version"]
    chained = cli("verify", "--chain", *map(str, nights))
    assert chained.returncode == 0, chained.stdout
    assert f"{nights[1]}: follows {nights[0]}" in chained.stdout
    gap = cli("verify", "--chain", str(nights[0]), str(nights[2]))
    assert gap.returncode == 2 and "a night is missing or replaced" in gap.stdout


# Issue #37, item 3: without --allowed-signers a signature is still checked, against its own key.
def test_verify_without_allowed_signers_still_checks_the_signature(tmp_path):
    import hashlib

    key = keypair(tmp_path, "ed25519")
    out = tmp_path / "out"
    done = run_signed(tmp_path, out, "--sign", str(key))
    assert done.returncode == 0, done.stderr
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(key)], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    # Issue #37, item 8: the console says the set was signed, and by which key.
    assert f"sealed and signed by {fingerprint})" in done.stdout
    good = cli("verify", str(out))
    assert good.returncode == 0
    assert (
        f"SHA256SUMS.sig: OK (signed by {fingerprint}, signer not checked: give --allowed-signers)"
        in good.stdout
    )
    page = out / "report.html"
    page.write_bytes(page.read_bytes().replace(b"<html", b"<html data-x", 1))
    sums = "".join(
        f"{hashlib.sha256((out / name).read_bytes()).hexdigest()}  {name}\n"
        for name in sorted(p.name for p in out.iterdir() if p.name not in ("SHA256SUMS", "SHA256SUMS.sig"))
    )
    (out / "SHA256SUMS").write_text(sums)  # every file matches again: only the signature tells
    bad = cli("verify", str(out))
    assert bad.returncode == 2
    assert "SHA256SUMS.sig: FAILED (not a good vod-audit signature of SHA256SUMS)" in bad.stdout


# Issue #38, item 14: an emptied SHA256SUMS is a set that fails verification, naming every file.
def test_an_emptied_sums_file_fails_verification_naming_every_file(tmp_path):
    out = tmp_path / "out"
    assert run_signed(tmp_path, out).returncode == 0
    (out / "SHA256SUMS").write_text("")
    done = cli("verify", str(out))
    assert done.returncode == 2, done.stderr
    for name in ("report.html", "results.json", "evidence.json"):
        assert f"{name}: FAILED (not in SHA256SUMS: not part of this run's set)" in done.stdout


# Issue #38, item 15: a key that cannot sign is refused before any call, not after the night.
@pytest.mark.parametrize("what", ["passphrase without its variable", "public key", "not a key"])
def test_a_key_that_cannot_sign_is_refused_before_any_call(tmp_path, what, start_emulator):
    from tests.run.helpers import EMULATOR_ENV, run_args

    key = keypair(tmp_path, "ed25519", PASSPHRASE if what.startswith("passphrase") else "")
    alone = tmp_path / "alone.pub"  # a public key with no private half beside it (ssh-keygen would use one)
    alone.write_bytes(key.with_suffix(".pub").read_bytes())
    given = {"public key": alone, "not a key": tmp_path / "m.yaml"}.get(what, key)
    emulator = start_emulator(jobs=sample_jobs(), qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, "--sign", str(given)), env=clean_env(**EMULATOR_ENV))
    assert done.returncode == 1
    assert (
        done.stderr.startswith(f"vod-audit: --sign {given}: cannot sign: ")
        and "nothing was audited" in done.stderr
    )
    assert emulator.counters.snapshot()["total"] == 0 and not out.exists()
