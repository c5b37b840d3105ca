"""A hostile corpus, generated (no checked-in blobs): each case is a file a clinic could be sent, with
the exit code `sohs validate` and `sohs verify` document for it (issue 15).

``write_corpus(folder, listener, signer)`` writes every case into ``folder`` and returns them.
``listener`` is ``host:port`` of a local TCP listener: every reference a hostile file makes (DTD,
entity, XInclude, schemaLocation) points there, so a test can prove nothing was ever fetched.
Cases are sized to prove the point in CI (10⁵ unknown elements rather than 10⁶; one 11 MB text).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sohs_cli.documents import samples
from sohs_cli.documents.kinds import pack
from sohs_cli.signing.certs import KeyMaterial
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import make_certificate, new_key

FACILITY = "79001"


@dataclass(frozen=True)
class Case:
    name: str  # the file name in the corpus
    validate: int  # documented exit code of `sohs validate FILE`
    verify: int  # of `sohs verify FILE --integrity-only`
    kind: str = "file"  # file | fifo | symlink | sparse (a file over the size limit, on paper only)
    portal: bool = True  # submitted to the simulated portal too
    heavy: bool = False  # validate and verify only (unpacking 2,000 HOSO writes 2,000 files)


def _xml1(ma_lk: str = "LK202511009901") -> bytes:
    return samples.xml1("3176", ma_lk, ma_loai_rv="2")


def _envelope(ma_lk: str = "LK202511009902", tables: list[tuple[str, bytes]] | None = None) -> bytes:
    base = samples.xml1_values("3176", ma_lk, ma_loai_rv="2")
    tables = tables or [("x1", samples.xml1("3176", ma_lk, ma_loai_rv="2")),
                        ("x13", samples.xml13("3176", ma_lk, base))]
    return pack(tables, facility=FACILITY).data


def _with_noidungfile(envelope: bytes, content: str) -> bytes:
    return re.sub(rb"<NOIDUNGFILE>[^<]*</NOIDUNGFILE>", b"<NOIDUNGFILE>" + content.encode() + b"</NOIDUNGFILE>",
                  envelope, count=1)


def _many_hoso(n: int) -> bytes:
    bad = _xml1("LK202511009903").replace(b"GD4797920000001", b"GD479792000001")
    one = base64.b64encode(bad).decode()
    hoso = f"<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{one}</NOIDUNGFILE></FILEHOSO></HOSO>"
    text = re.sub(r"<HOSO>.*</HOSO>", hoso * n, pack([("x1", bad)], facility=FACILITY).data.decode())
    return text.replace("<SOLUONGHOSO>1<", f"<SOLUONGHOSO>{n}<").encode()


def cases(listener: str, signer: FileSigner) -> list[tuple[Case, bytes]]:
    """Every case with its bytes (empty for FIFOs, symlinks and sparse files)."""
    url = f"http://{listener}"
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                         for i in range(1, 10))
              + b"]><TONG_HOP>&lol9;</TONG_HOP>")
    key = new_key()
    impostor = FileSigner(KeyMaterial(key, make_certificate(signer.certificate.subject, key)))
    signed = sign_document(_envelope("LK202511009904"), signer)
    envelope = _envelope("LK202511009905")
    unknown = _xml1().replace(b"</TONG_HOP>", b"<X/>" * 100_000 + b"</TONG_HOP>")
    big_inner = _xml1("LK202511009906").replace(b"</TONG_HOP>", b"<!--" + b"x" * 8_000_000 + b"--></TONG_HOP>")
    out: list[tuple[Case, bytes]] = [
        (Case("billion-laughs.xml", 1, 1), laughs),
        (Case("xxe-file.xml", 1, 1), b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">]>'
                                      b"<TONG_HOP><MA_LK>&f;</MA_LK></TONG_HOP>"),
        (Case("xxe-network.xml", 1, 1),
         f'<?xml version="1.0"?><!DOCTYPE x SYSTEM "{url}/evil.dtd"><TONG_HOP/>'.encode()),
        (Case("xxe-parameter.xml", 1, 1), f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]><TONG_HOP/>'.encode()),
        (Case("xinclude.xml", 1, 1), _xml1().replace(
            b"<TONG_HOP>", f'<TONG_HOP xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{url}/x"/>'
            .encode())),
        (Case("schema-location.xml", 0, 1), _xml1().replace(
            b"<TONG_HOP>", f'<TONG_HOP xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:noNamespaceSchemaLocation="{url}/s.xsd">'.encode())),
        (Case("truncated.xml", 1, 1), _xml1()[:-40]),
        (Case("not-utf8.xml", 1, 1), _xml1().replace(b"Nguy\xe1\xbb\x85n", b"Nguy\xff\xfen")),
        (Case("cesu-surrogate.xml", 1, 1), _xml1().replace(b"Nguy\xe1\xbb\x85n", b"Nguy\xed\xa0\x80n")),
        (Case("utf16-declared.xml", 1, 1), _xml1().replace(b'encoding="utf-8"', b'encoding="UTF-16"')),
        (Case("nul-byte.xml", 1, 1), _xml1().replace(b"<STT>1", b"<STT>1\x00")),
        (Case("undefined-entity.xml", 1, 1), _xml1().replace(b"<STT>1", b"<STT>&nope;1")),
        (Case("empty.xml", 1, 1), b""),
        (Case("whitespace.xml", 1, 1), b" \n\t\n"),
        (Case("deep-100.xml", 1, 1), b"<TONG_HOP>" + b"<a>" * 100 + b"</a>" * 100 + b"</TONG_HOP>"),
        (Case("deep-10000.xml", 1, 1), b"<TONG_HOP>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</TONG_HOP>"),
        (Case("many-attributes.xml", 1, 1), _xml1().replace(
            b"<TONG_HOP>", b"<TONG_HOP " + b" ".join(b'a%d="x"' % i for i in range(20_000)) + b">")),
        (Case("long-name.xml", 1, 1), b"<" + b"N" * 60_000 + b"/>"),
        (Case("unknown-root.xml", 1, 1), b"<root><child/></root>"),
        (Case("pi-in-value.xml", 1, 1), _xml1().replace(b"<STT>1</STT>", b"<STT>1<?x y?>0</STT>")),
        (Case("comment-in-value.xml", 0, 1), envelope.replace(b"<MACSKCB>79001<", b"<MACSKCB>79<!---->001<")),
        (Case("unknown-elements-1e5.xml", 1, 1), unknown),
        (Case("soluonghoso-5000-digits.xml", 1, 1),
         envelope.replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>" + b"9" * 5000 + b"<")),
        (Case("soluonghoso-superscript.xml", 1, 1), envelope.replace(b"<SOLUONGHOSO>1<", "<SOLUONGHOSO>²<".encode())),
        (Case("noidungfile-line-breaks.xml", 1, 1), _with_noidungfile(
            envelope, base64.encodebytes(_xml1("LK202511009905")).decode())),
        (Case("noidungfile-not-base64.xml", 1, 1), _with_noidungfile(envelope, "!!!not base64!!!")),
        (Case("noidungfile-bomb.xml", 1, 1), _with_noidungfile(envelope, base64.b64encode(laughs).decode())),
        (Case("noidungfile-envelope.xml", 1, 1), _with_noidungfile(envelope, base64.b64encode(envelope).decode())),
        (Case("hoso-2000.xml", 1, 1, heavy=True), _many_hoso(2000)),
        (Case("inner-table-10mb.xml", 0, 1), _envelope("LK202511009906", [("x1", big_inner)])),
        (Case("signed-good.xml", 0, 0), signed),
        (Case("signed-text-after-signedinfo.xml", 1, 1),
         signed.replace(b"</SignedInfo>", b"</SignedInfo>junk", 1)),
        (Case("signed-changed.xml", 0, 1), signed.replace(b"<MACSKCB>79001<", b"<MACSKCB>79002<", 1)),
        (Case("signed-by-anyone.xml", 0, 0), sign_document(_envelope("LK202511009907"), impostor)),
        (Case("signed-twice.xml", 1, 1), signed.replace(b"</CHUKYDONVI>", signed[signed.index(b"<Signature "):
                                                                                  signed.index(b"</Signature>") + 12]
                                                             + b"</CHUKYDONVI>")),
        (Case("terminal-\x1b[2J\x1b]0;pwned\x07-name.xml", 0, 1), _xml1("LK202511009908")),
        (Case("fifo.xml", 0, 0, kind="fifo", portal=False), b""),
        (Case("link-out.xml", 0, 0, kind="symlink", portal=False), b""),
        (Case("over-the-limit.xml", 1, 1, kind="sparse", portal=False), b""),
    ]
    return out


def write_corpus(folder: Path, listener: str, signer: FileSigner,
                 outside: Path | None = None) -> list[tuple[Case, Path]]:
    """Write every case into ``folder``; a symlink case points at ``outside`` (a file out of it)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Case, Path]] = []
    for case, data in cases(listener, signer):
        path = folder / case.name
        if case.kind == "fifo":
            if not hasattr(os, "mkfifo"):
                continue
            os.mkfifo(path)
        elif case.kind == "symlink":
            target = outside or folder.parent / "outside.xml"
            target.write_bytes(_envelope("LK202511009909"))
            path.symlink_to(target)
        elif case.kind == "sparse":
            with open(path, "wb") as fh:
                fh.truncate(60 * 1024 * 1024)
        else:
            path.write_bytes(data)
        written.append((case, path))
    return written


Check = Callable[[Case, Path], None]
