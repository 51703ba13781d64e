"""Issue #27: e-mail after STARTTLS to a real SMTP server on 127.0.0.1, plain text and HTML, never in clear."""

from __future__ import annotations

import email
from email import policy
from urllib.parse import quote

import pytest

from audit.notify.send import Options, tell_run
from tests.notify.records import HOSTILE, failing, spec
from tests.notify.smtp import smtp_server

pytestmark = pytest.mark.slow

PASSWORD = "p@ss w0rd/with:odd"


def url(port: int) -> str:
    return f"smtp://audit%40example.com:{quote(PASSWORD, safe='')}@localhost:{port}"


def send(mailbox, run, sleeps=None):
    told = tell_run(
        run,
        [spec("email")],
        Options(),
        {"URL": url(mailbox.port)},
        sleep=(sleeps if sleeps is not None else []).append,
    )
    assert PASSWORD not in told[0].record.why
    return told[0].record


def test_mail_goes_after_starttls_with_both_parts_escaped(tmp_path, monkeypatch):
    with smtp_server(tmp_path) as mailbox:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # trust the test's certificate
        record = send(mailbox, failing(3, said=HOSTILE))
        assert record.status == "sent", record.why
        assert mailbox.said.index("STARTTLS") < mailbox.said.index("AUTH") < mailbox.said.index("MAIL")
        assert mailbox.logins == [("audit@example.com", PASSWORD)]
        mail = email.message_from_bytes(mailbox.messages[0], policy=policy.default)
        assert mail["To"] == "oncall@example.com" and mail["From"] == "audit@example.com"
        assert "FAIL" in mail["Subject"]
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert "FAIL: 3 jobs with findings (3 new)" in text and "j0002" in text
        assert "<font" not in html and "&lt;font color=red&gt;" in html


def test_no_mail_in_clear_and_temporary_refusals_are_retried(tmp_path, monkeypatch):
    with smtp_server(tmp_path, starttls=False) as mailbox:
        record = send(mailbox, failing(1))
        assert record.status == "failed" and "does not offer STARTTLS" in record.why
        assert "AUTH" not in mailbox.said and not mailbox.messages  # the password never left
    with smtp_server(tmp_path) as mailbox:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        mailbox.mail_from_reply = [b"451 try again later"]
        sleeps: list[float] = []
        record = send(mailbox, failing(1), sleeps)
        assert record.status == "sent" and record.attempts == 2 and sleeps == [1.0]
        mailbox.mail_from_reply = [b"550 no such sender"]
        record = send(mailbox, failing(1))
        assert (
            record.status == "failed"
            and record.why
            == f"localhost:{mailbox.port} answered 550 (1 attempt)"  # the code, never the server's words (#38)
        )


# Issue #38, item 7: a server dripping its greeting holds one attempt to its timeout, not for hours.
def test_a_server_dripping_its_greeting_is_cut_off_at_the_attempts_timeout():
    import socket
    import threading

    from audit.common.channels import ChannelSpec
    from audit.notify.channel import Outgoing, Secrets
    from audit.notify.deliver import deliver
    from audit.notify.email import Email

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    done = threading.Event()

    def drip() -> None:
        while not done.is_set():
            try:
                listener.settimeout(0.5)
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                for byte in b"220 " + b"x" * 400:  # a byte every 0.2 s: each read within its timeout
                    if done.wait(0.2):
                        break
                    try:
                        conn.send(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    url = f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    spec = ChannelSpec(name="mail", type="email", url_env="U", to=("a@example.com",))
    outgoing = Outgoing(url, b"Subject: x\r\n\r\nx\r\n", {}, "")
    result: list = []
    sender = threading.Thread(
        target=lambda: result.append(
            deliver(Email(spec), outgoing, Secrets(url), sleep=lambda s: None, timeout=1.0)
        ),
        daemon=True,
    )
    sender.start()
    sender.join(timeout=60)  # a bound on the test, not a measurement: four attempts of 1 s end long before
    done.set()
    thread.join(timeout=10)
    listener.close()
    assert result, "the delivery was still reading the greeting"
    delivery = result[0]
    assert not delivery.sent and delivery.why.startswith(
        f"no answer from 127.0.0.1:{url.rsplit(':', 1)[1]} within 1 s"
    )
