"""Issue #37, item 5: the console cuts a job's message only on a terminal, at its width."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from tests.run.helpers import EMULATOR_ENV, ROOT, clean_env, cli

pytestmark = pytest.mark.slow
LONG = "GetJobDetail returned no TranscodeJobDetail: the job does not exist or is older than the six months the API can see"


def demo_args(tmp_path) -> tuple[str, ...]:
    return (
        "run",
        str(ROOT / "examples" / "demo.yaml"),
        "--emulator",
        str(ROOT / "examples" / "demo-data.yaml"),
        "--out",
        str(tmp_path / "out"),
        "--state",
        str(tmp_path / "s.db"),
        "--no-progress",
    )


def test_written_to_a_file_or_pipe_no_line_is_cut(tmp_path):
    done = cli(*demo_args(tmp_path), env=clean_env(COLUMNS="250", **EMULATOR_ENV))
    assert done.returncode == 2, done.stderr
    assert LONG in done.stdout and "…" not in done.stdout


def test_on_a_terminal_a_message_is_cut_at_its_width(tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 90, 0, 0))
    env = clean_env(**EMULATOR_ENV)
    env.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "audit", *demo_args(tmp_path)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 2
    lines = b"".join(chunks).decode().splitlines()
    needing = [line for line in lines if "deadbeef00000000000000000000dead" in line]
    assert needing and all(len(line) <= 90 for line in needing)
    assert needing[0].endswith("…") and LONG not in "\n".join(lines)


# Issue #37, item 8: `make audit` says where the report is once (the CLI's own line), not twice.
def test_make_audit_names_the_report_once(tmp_path):
    done = subprocess.run(
        ["make", "--no-print-directory", "audit", f"OUT={tmp_path / 'reports'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("report.html") == 1 and "verdict: FAIL" in done.stdout
