"""A seeded generator of hostile and broken mails, for the fuzz test and its benchmark.

Each mail is raw bytes as a server could deliver them: 8-bit and broken encoded-word headers,
every malformed From this project was shown to misread, broken MIME and boundaries, unknown
charsets, NUL and control bytes, very large bodies, deep nesting, delivery reports (to the
plain address and to made-up envelope senders), auto-replies and mail from the assistant's own
address, mixed with ordinary commands from members and strangers. The same seed gives the same
mails, so a failure can be replayed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

BIG_BODY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class HostileMail:
    kind: str
    raw: bytes


class HostileMails:
    """``HostileMails(seed, mail_from, members).take(n)``: n mails, reproducibly."""

    def __init__(
        self,
        seed: int,
        mail_from: str,
        members: Sequence[str],
        *,
        big_every: int = 700,
    ) -> None:
        self.rng = random.Random(seed)
        self.mail_from = mail_from
        self.local, self.domain = mail_from.split("@")
        self.members = list(members)
        self.big_every = big_every  # one 5 MB mail in this many (0: none)
        self.count = 0
        self.kinds = [
            (self.eight_bit_headers, 10),
            (self.broken_encoded_words, 8),
            (self.malformed_from, 12),
            (self.broken_mime, 8),
            (self.unknown_charset, 5),
            (self.nul_bytes, 8),
            (self.deep_nesting, 3),
            (self.dsn, 8),
            (self.auto_reply, 6),
            (self.own_address, 6),
            (self.stranger, 8),
            (self.member_command, 10),
            (self.garbage, 4),
            (self.huge_headers, 2),
        ]

    def take(self, count: int) -> list[HostileMail]:
        return list(self.iterate(count))

    def iterate(self, count: int) -> Iterator[HostileMail]:
        makers, weights = zip(*self.kinds, strict=True)
        for _ in range(count):
            self.count += 1
            if self.big_every and self.count % self.big_every == 0:
                yield HostileMail("big_body", self.big_body())
                continue
            maker = self.rng.choices(makers, weights)[0]
            yield HostileMail(maker.__name__, maker())

    # -- pieces -------------------------------------------------------------------------------

    def _id(self) -> bytes:
        return f"<h{self.count}.{self.rng.getrandbits(40):x}@fuzz.example>".encode()

    def _member(self) -> str:
        return self.rng.choice(self.members)

    def _token_address(self) -> str:
        token = "".join(self.rng.choice("abcdefghijkLMNOP0123456789") for _ in range(22))
        prefix = self.rng.choice(["", "b-", "B-", "x"])
        return f"{self.local}+{prefix}{token}@{self.domain}"

    def _to(self) -> bytes:
        return self.rng.choice([self.mail_from, self._token_address()]).encode()

    def _words(self) -> bytes:
        words = [
            "MEINE",
            "TREFFER",
            "HILFE",
            "TERMINE",
            "Ja",
            "NEIN",
            "1",
            "2 PAUSIEREN",
            "BIETE Bürgerbus",
            "SUCHE Dorfladen",
            "ANMELDEN 1",
            "DATEN",
            "ABBESTELLEN",
        ]
        return self.rng.choice(words).encode()

    def _eight_bit(self) -> bytes:
        return self.rng.choice(
            [
                "Grüße aus Görlitz".encode(),
                "Grüße aus Görlitz".encode("latin-1"),
                bytes(self.rng.randrange(128, 256) for _ in range(self.rng.randint(1, 12))),
                "MEINE ✓ €".encode(),
                b"\xc3\x28\xa0\xa1",  # invalid UTF-8
            ]
        )

    def _mail(self, head: list[bytes], body: bytes = b"Hallo\r\n") -> bytes:
        if not any(line.lower().startswith(b"message-id:") for line in head):
            head = [*head, b"Message-ID: " + self._id()]
        return b"\r\n".join(head) + b"\r\n\r\n" + body

    # -- kinds --------------------------------------------------------------------------------

    def eight_bit_headers(self) -> bytes:
        sender = self._member().encode()
        if self.rng.random() < 0.3:
            sender = self._eight_bit() + b" <" + sender + b">"
        elif self.rng.random() < 0.3:
            sender = self._eight_bit().replace(b" ", b"") + b"@" + sender.split(b"@")[1]
        subject = self._words() + b" " + self._eight_bit()
        return self._mail(
            [b"From: " + sender, b"To: " + self._to(), b"Subject: " + subject],
            self._eight_bit() + b"\r\n",
        )

    def broken_encoded_words(self) -> bytes:
        subject = self.rng.choice(
            [
                b"=?utf-8?q?MEI=00NE?=",
                b"=?utf-8?b?!!!notbase64?=",
                b"=?x-unknown-charset?q?MEINE?=",
                b"=?utf-8?q?unterminated",
                b"=?utf-8?Q?=C3?= =?utf-8?Q?=A4?=",
                b"=?iso-8859-1?q?Gr=FC=DFe?= =?utf-8?b?" + b"A" * 200 + b"?=",
                b"=?utf-8?q?line=0D=0ABcc:_victim@example.org?=",
                b"=??q?empty?=",
            ]
        )
        name = self.rng.choice([b"=?utf-8?q?Anna=00?=", b"=?bogus?b?QW5uYQ==?=", b"Anna"])
        return self._mail(
            [
                b"From: " + name + b" <" + self._member().encode() + b">",
                b"To: " + self._to(),
                b"Subject: " + subject,
            ]
        )

    def malformed_from(self) -> bytes:
        victim, attacker = self._member(), "mallory@evil.test"
        value = self.rng.choice(
            [
                f"{victim} <{attacker}>",
                f"{victim})<{attacker}>",
                f"{victim}, {attacker}",
                f"Gruppe: {victim};",
                f"<{victim}> <{attacker}>",
                f"{victim} ({attacker}",
                f'"{victim}" <{attacker}',
                f"{victim}@@evil.test",
                f"<{victim}",
                "",
                "<>",
                f"{victim}\x00",
                f"=?utf-8?q?{victim}?= <{attacker}>",
            ]
        ).encode()
        head = [b"From: " + value, b"To: " + self._to(), b"Subject: " + self._words()]
        if self.rng.random() < 0.3:
            head.insert(0, f"From: {self.rng.choice([victim, attacker])}".encode())
        return self._mail(head, b"Ja\r\n")

    def broken_mime(self) -> bytes:
        head = [
            f"From: {self._member()}".encode(),
            b"To: " + self._to(),
            b"Subject: " + self._words(),
            b"MIME-Version: 1.0",
        ]
        variant = self.rng.randrange(5)
        if variant == 0:  # declared boundary never occurs
            head.append(b'Content-Type: multipart/mixed; boundary="nowhere"')
            body = b"--elsewhere\r\nContent-Type: text/plain\r\n\r\nMEINE\r\n--elsewhere--\r\n"
        elif variant == 1:  # no boundary at all
            head.append(b"Content-Type: multipart/alternative")
            body = b"MEINE\r\n"
        elif variant == 2:  # unterminated parts, bad transfer encodings
            head.append(b'Content-Type: multipart/mixed; boundary="b"')
            body = (
                b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
                b"\r\n!!!not base64!!!\r\n--b\r\nContent-Type: text/html\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>=ZZ=\r\n"
            )
        elif variant == 3:  # a Content-Type that is garbage
            head.append(b"Content-Type: ;;;===; charset")
            body = b"HILFE\r\n"
        else:  # an attachment only, with a hostile file name
            head.append(b'Content-Type: multipart/mixed; boundary="b"')
            body = (
                b'--b\r\nContent-Type: application/octet-stream; name="=?utf-8?q?a=00b?="\r\n'
                b"Content-Disposition: attachment; filename*=utf-8''%00%FF.exe\r\n\r\n"
                + bytes(self.rng.randrange(256) for _ in range(300))
                + b"\r\n--b--\r\n"
            )
        return self._mail(head, body)

    def unknown_charset(self) -> bytes:
        charset = self.rng.choice([b"x-klingon", b"utf-7", b"utf-16", b"", b'"', b"iso-8859-99"])
        return self._mail(
            [
                f"From: {self._member()}".encode(),
                b"To: " + self._to(),
                b"Subject: " + self._words(),
                b"Content-Type: text/plain; charset=" + charset,
            ],
            self._eight_bit() + b"\r\nMEINE\r\n",
        )

    def nul_bytes(self) -> bytes:
        subject = self.rng.choice(
            [b"MEI\x00NE", b"Re: HILFE\x00\x07\x1b[31m", b"\x00", b"TREFFER\x7f"]
        )
        sender = self._member().encode()
        if self.rng.random() < 0.3:
            sender += b"\x00"
        head = [b"From: " + sender, b"To: " + self._to() + b"\x00", b"Subject: " + subject]
        if self.rng.random() < 0.5:  # identifiers with NUL and controls (PostgreSQL refuses NUL)
            head += [
                f"Message-ID: <n\x00{self.count}\x1b@fuzz.example>".encode(),
                b"In-Reply-To: <a\x00b@x>",
                b"References: <c\x00d@x> <\xff\xfe@x>",
            ]
        return self._mail(head, b"\x00MEINE\x00\r\n")

    def deep_nesting(self) -> bytes:
        depth = self.rng.randint(30, 120)
        head = [
            f"From: {self._member()}".encode(),
            b"To: " + self._to(),
            b"Subject: " + self._words(),
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="b0"',
        ]
        body = b""
        for level in range(depth):
            part = f'--b{level}\r\nContent-Type: multipart/mixed; boundary="b{level + 1}"\r\n'
            body += part.encode() + b"\r\n"
        body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nMEINE\r\n".encode()
        return self._mail(head, body)

    def dsn(self) -> bytes:
        failed = self.rng.choice([self._member(), "someone@else.example"])
        to = self.rng.choice([self.mail_from, self._token_address()])
        status = self.rng.choice(["5.1.1", "4.2.2", "5.7.1", "9.9.9", ""])
        return self._mail(
            [
                b"From: Mail Delivery System <MAILER-DAEMON@mx.fuzz.example>",
                b"To: " + to.encode(),
                b"Subject: Undelivered Mail Returned to Sender",
                b"MIME-Version: 1.0",
                b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
            ],
            b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            b"--r\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Reporting-MTA: dns; mx.fuzz.example\r\n\r\n"
            + f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\n".encode()
            + f"Status: {status}\r\nDiagnostic-Code: smtp; 550 {status} <{failed}>: ".encode()
            + b"User unknown\r\n--r--\r\n",
        )

    def auto_reply(self) -> bytes:
        header = self.rng.choice(
            [
                b"Auto-Submitted: auto-replied",
                b"Precedence: bulk",
                b"X-Autoreply: yes",
                b"List-Id: <liste.example>",
                b"Auto-Submitted: AUTO-GENERATED; x=1",
            ]
        )
        return self._mail(
            [
                f"From: {self._member()}".encode(),
                b"To: " + self._to(),
                b"Subject: Abwesenheitsnotiz: " + self._words(),
                header,
            ],
            b"Ich bin nicht im B\xc3\xbcro.\r\n",
        )

    def own_address(self) -> bytes:
        local = self.rng.choice([self.local, self.local.upper(), self.local.capitalize()])
        tag = self.rng.choice(["", "+abcdefgh12", "+b-XyZ1234567", "+"])
        domain = self.rng.choice([self.domain, self.domain.upper()])
        sender = f"{local}{tag}@{domain}"
        if self.rng.random() < 0.4:
            sender = f"Zukunftsraum Assistent <{sender}>"
        return self._mail(
            [f"From: {sender}".encode(), b"To: " + self._to(), b"Subject: " + self._words()],
            b"HILFE\r\n",
        )

    def stranger(self) -> bytes:
        sender = f"fremd{self.rng.randrange(40)}@irgendwo{self.rng.randrange(5)}.example"
        return self._mail(
            [f"From: {sender}".encode(), b"To: " + self._to(), b"Subject: " + self._words()],
            self._words() + b"\r\n",
        )

    def member_command(self) -> bytes:
        return self._mail(
            [
                f"From: {self._member()}".encode(),
                b"To: " + self._to(),
                b"Subject: " + self._words(),
            ],
            self._words() + b"\r\n",
        )

    def garbage(self) -> bytes:
        return self.rng.choice(
            [
                b"",
                b"\x00\x01\x02",
                bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 2000))),
                b"no header block at all\r\n",
                b"From: " + self._member().encode(),  # headers only, no body, no blank line
                b": empty name\r\n\r\nbody",
            ]
        )

    def huge_headers(self) -> bytes:
        # Values on which structured header parsers take superlinear time.
        sender = self.rng.choice(
            [
                self._member().encode(),
                b'"' * 20001 + b" <" + self._member().encode() + b">",
                b"(" * 20000 + self._member().encode(),
                b", ".join(f"a{n}@x.example".encode() for n in range(2000)),
            ]
        )
        head = [
            b"From: " + sender,
            b"Content-Type: text/plain; charset=" + b'"' * self.rng.randint(1, 20000),
            b"To: " + self._to(),
            b"Subject: " + self._words() + b" " + b"x" * self.rng.randint(1000, 20000),
        ]
        head += [f"X-Filler-{n}: {'y' * 50}".encode() for n in range(self.rng.randint(100, 1500))]
        head.append(b"References: " + b" ".join(f"<r{n}@x>".encode() for n in range(500)))
        return self._mail(head)

    def big_body(self) -> bytes:
        line = b"Ein sehr langer Text \xc3\xbcber B\xc3\xbcrgerbusse.\r\n"
        body = b"MEINE\r\n" + line * (BIG_BODY_BYTES // len(line))
        return self._mail(
            [f"From: {self._member()}".encode(), b"To: " + self._to(), b"Subject: MEINE"], body
        )
