"""An SMTP server on 127.0.0.1 for the e-mail channel: STARTTLS with a certificate made for the test, AUTH PLAIN, one mailbox."""

from __future__ import annotations

import base64
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, by OpenSSL's command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Mailbox:
    port: int
    starttls: bool = True
    mail_from_reply: list[bytes] = field(default_factory=list)  # replies to MAIL FROM in turn; then 250
    said: list[str] = field(default_factory=list)  # every command, in order ("STARTTLS", "AUTH ...")
    logins: list[tuple[str, str]] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)


@contextmanager
def smtp_server(folder: Path, *, starttls: bool = True) -> Iterator[Mailbox]:
    cert, key = certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box: list[Mailbox] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            mailbox, secure = box[0], False

            def say(text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")
                self.wfile.flush()

            say("220 localhost ESMTP test")
            while line := self.rfile.readline():
                command = line.decode().rstrip("\r\n")
                verb = command.split(" ", 1)[0].upper()
                mailbox.said.append(verb if verb != "AUTH" else "AUTH")
                if verb in ("EHLO", "HELO"):
                    offers = ["STARTTLS"] if mailbox.starttls and not secure else []
                    offers += ["AUTH PLAIN"] if secure else []
                    lines = ["localhost", *offers]
                    for index, offer in enumerate(lines):
                        say(f"250{'-' if index < len(lines) - 1 else ' '}{offer}")
                elif verb == "STARTTLS":
                    say("220 go ahead")
                    self.connection = context.wrap_socket(self.connection, server_side=True)
                    self.rfile = self.connection.makefile("rb")
                    self.wfile = self.connection.makefile("wb")
                    secure = True
                elif verb == "AUTH":
                    _, user, password = base64.b64decode(command.split()[2]).split(b"\0")
                    mailbox.logins.append((user.decode(), password.decode()))
                    say("235 accepted")
                elif verb == "MAIL":
                    reply = mailbox.mail_from_reply.pop(0) if mailbox.mail_from_reply else b"250 ok"
                    say(reply.decode())
                elif verb == "RCPT":
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    mailbox.messages.append(data)
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Mailbox(server.server_address[1], starttls))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
