"""SHA256SUMS.sig: an SSH signature (SSHSIG, namespace vod-audit) of a set's SHA256SUMS, made and checked by ssh-keygen.

OpenSSH's `ssh-keygen -Y sign|verify|find-principals` (PROTOCOL.sshsig; ssh-keygen(1), "-Y sign")
does the cryptography, so that an auditor checks a set with stock OpenSSH and nothing of ours, and
keys stay where the team keeps them: a private key file (Ed25519, RSA, ECDSA) or ssh-agent. The
private key is never read, copied or logged by this tool; its passphrase comes from the
environment (PASSPHRASE_VARIABLE) through an askpass helper that holds no secret itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from audit.common.errors import UserError

NAMESPACE = "vod-audit"
SIGNATURE = "SHA256SUMS.sig"
PASSPHRASE_VARIABLE = "VOD_AUDIT_SIGN_PASSPHRASE"
_ASKPASS = '#!/bin/sh\nprintf "%s\\n" "$VOD_AUDIT_SIGN_PASSPHRASE"\n'
TIMEOUT = 60.0


@dataclass(frozen=True)
class Signer:
    """A private key file to sign with, or (agent) a public key whose private half ssh-agent holds."""

    key: Path
    agent: bool = False

    @classmethod
    def of(cls, key: str | None, agent_key: str | None, env: Mapping[str, str]) -> Signer | None:
        """The signer `--sign KEY` or `--sign-key PUB` name, checked before any work; None for neither."""
        if key and agent_key:
            raise UserError(
                "give --sign KEY (a private key file) or --sign-key PUB (with ssh-agent), not both"
            )
        if not key and not agent_key:
            return None
        _ssh_keygen()
        path = Path(key or agent_key or "")
        if not path.is_file():
            raise UserError(f"{'--sign' if key else '--sign-key'} {path}: no such key file")
        if agent_key and not env.get("SSH_AUTH_SOCK"):
            raise UserError("--sign-key signs through ssh-agent, and SSH_AUTH_SOCK is not set")
        signer = cls(path, agent=bool(agent_key))
        # A key that cannot sign (a passphrase not given, a public key, not a key at all) is said now,
        # before any call, not after a night of calls and a written set: it signs a probe, as it will
        # sign the set.
        with tempfile.TemporaryDirectory(prefix="vod-audit-sign-probe-") as work:
            probe = Path(work) / "probe"
            probe.write_bytes(b"vod-audit signing probe\n")
            done, made = _signed(probe, signer, env)
            if done.returncode != 0 or not made.is_file():
                flag = "--sign" if key else "--sign-key"
                raise UserError(
                    f"{flag} {path}: cannot sign: {_why_not_signed(done.stderr, signer, env)}; nothing was audited"
                )
        return signer


def sign(sums: Path, signer: Signer, env: Mapping[str, str]) -> Path:
    """Signs the file `sums` into SIGNATURE beside it, put in place whole; UserError saying why not."""
    folder = sums.parent
    with tempfile.TemporaryDirectory(prefix=".vod-audit-sign-", dir=folder) as work:
        # ssh-keygen signs FILE into FILE.sig: a copy of the sums is signed (the signature covers the
        # bytes, not the name), so that a half-written .sig never stands beside the set.
        copy = Path(work) / "SHA256SUMS"
        shutil.copyfile(sums, copy)
        done, made = _signed(copy, signer, env)
        if done.returncode != 0 or not made.is_file():
            raise UserError(
                f"the report set is written but not signed: {_why_not_signed(done.stderr, signer, env)}"
            )
        os.replace(made, folder / SIGNATURE)
    return folder / SIGNATURE


def _signed(
    target: Path, signer: Signer, env: Mapping[str, str]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """ssh-keygen signing `target` (in a folder of its own) into TARGET.sig: its outcome, and the path."""
    askpass = target.parent / "askpass"
    askpass.write_text(_ASKPASS)
    askpass.chmod(0o700)
    child = {k: v for k, v in env.items() if k in ("PATH", "HOME", "SSH_AUTH_SOCK", PASSPHRASE_VARIABLE)}
    child |= {"SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"}
    if not signer.agent:
        child.pop("SSH_AUTH_SOCK", None)  # the key file given, never another key of the agent
    done = _run(["-Y", "sign", "-f", str(signer.key), "-n", NAMESPACE, str(target)], child)
    return done, target.with_name(target.name + ".sig")


def _why_not_signed(stderr: str, signer: Signer, env: Mapping[str, str]) -> str:
    """ssh-keygen's complaint as one of our sentences: its own words may name the agent's socket."""
    said = stderr.lower()
    if "passphrase" in said or "incorrect" in said:
        if env.get(PASSPHRASE_VARIABLE):
            return f"the passphrase in {PASSPHRASE_VARIABLE} does not open {signer.key}"
        return f"{signer.key} is protected by a passphrase: set {PASSPHRASE_VARIABLE}"
    if "permissions" in said or "unprotected" in said:
        return f"{signer.key} is readable by other users; ssh-keygen refuses such a key (chmod 600 it)"
    if signer.agent:
        return f"ssh-agent holds no private key for {signer.key}"
    return f"ssh-keygen could not sign with {signer.key} (not a private key it can read)"


def principals(signature: Path, allowed: Path) -> list[str]:
    """The identities of `allowed` (an allowed_signers file) whose key made `signature`."""
    done = _run(
        ["-Y", "find-principals", "-s", str(signature), "-f", str(allowed)],
        {"PATH": os.environ.get("PATH", "")},
    )
    return done.stdout.split() if done.returncode == 0 else []


def verified(sums: Path, signature: Path, allowed: Path, identity: str) -> bool:
    """Whether `signature` is a good SSHSIG of `sums` in NAMESPACE by `identity` of `allowed`."""
    with sums.open("rb") as data:
        done = _run(
            ["-Y", "verify", "-f", str(allowed), "-I", identity, "-n", NAMESPACE, "-s", str(signature)],
            {"PATH": os.environ.get("PATH", "")},
            stdin=data,
        )
    return done.returncode == 0


def self_signed(sums: Path, signature: Path) -> str | None:
    """The fingerprint of the key that made `signature`, when it is a good SSHSIG of `sums` in
    NAMESPACE by the key embedded in it (`ssh-keygen -Y check-novalidate`: who that key belongs to
    is not checked); None when it is not."""
    with sums.open("rb") as data:
        done = _run(
            ["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(signature)],
            {"PATH": os.environ.get("PATH", "")},
            stdin=data,
        )
    found = re.search(r"\bkey (SHA256:[A-Za-z0-9+/=]+)", done.stdout)
    return found[1] if done.returncode == 0 and found else None


def fingerprint(key: Path) -> str | None:
    """The SHA256 fingerprint of a key file (`ssh-keygen -l`: public, or private without asking its
    passphrase), None when ssh-keygen cannot read one there."""
    done = _run(["-l", "-E", "sha256", "-f", str(key)], {"PATH": os.environ.get("PATH", "")})
    found = re.search(r"\b(SHA256:[A-Za-z0-9+/=]+)", done.stdout)
    return found[1] if done.returncode == 0 and found else None


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise UserError(
            "signing and checking signatures need OpenSSH's ssh-keygen on PATH (Debian: openssh-client)"
        )
    return found


def _run(
    arguments: list[str], env: Mapping[str, str], stdin: int | IO[bytes] = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [_ssh_keygen(), *arguments],
            stdin=stdin,  # a file or DEVNULL: never a terminal to prompt on
            capture_output=True,
            text=True,
            env=dict(env),
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise UserError(f"ssh-keygen did not finish within {TIMEOUT:g} s") from None
