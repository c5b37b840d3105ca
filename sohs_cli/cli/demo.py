"""``sohs demo``: the whole flow in one command, with nothing to prepare (the README's first command).

Everything is real: the shipped example documents, TEST certificates made on the spot, our XML-DSig,
the ledger, and the simulated portal, embedded in this process (the same ASGI app as
``sohs portal serve``, reached through ``httpx.ASGITransport``; no socket is opened).
"""

from __future__ import annotations

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape

VALID = ("referral_episode_3176.xml", "appointment_episode_3176.xml")
INVALID = "invalid_card_length_3176.xml"


def _step(n: int, title: str) -> None:
    output.stdout.print(f"\n[bold cyan]{n}/5 {escape(title)}[/]")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: str | None = typer.Option(None, "--dir", help="Keep the demo's files in DIR (default: a "
                                                                  "temporary folder, removed afterwards)."),
        lang: str | None = typer.Option(None, "--lang", help="vi or en."),
    ) -> None:
        """See the whole flow work: validate, pack, sign, submit to an embedded simulated portal, status.

        Chạy thử toàn bộ quy trình với cổng mô phỏng, không cần chuẩn bị gì.
        """

        def body() -> None:
            import tempfile

            if directory:
                _run(directory, lang)
            else:
                with tempfile.TemporaryDirectory(prefix="sohs-demo-") as tmp:
                    _run(tmp, lang)

        output.guarded(body)


def _run(root: str, lang: str | None) -> None:
    import asyncio
    import os
    import secrets
    from pathlib import Path

    import httpx

    from sohs_cli.cli.status import as_dict
    from sohs_cli.credentials import SecretSource
    from sohs_cli.documents import pack
    from sohs_cli.i18n import pick
    from sohs_cli.ledger import Ledger
    from sohs_cli.mockportal.accounts import Account, md5_upper
    from sohs_cli.mockportal.app import Portal, PortalConfig
    from sohs_cli.portal.client import PortalClient
    from sohs_cli.samples import examples_dir
    from sohs_cli.signing import FileSigner, sign_document
    from sohs_cli.submission import SubmitOptions, refresh, submit_files
    from sohs_cli.testpki import make_test_pki
    from sohs_cli.trust import Trust
    from sohs_cli.validation.engine import validate_bytes

    language = output.language(lang)
    work = Path(root)
    examples = examples_dir()
    output.stdout.print(pick(language, "sohs demo: a clinic's night, start to finish, against a SIMULATED portal",
                             "sohs demo: một lượt gửi hồ sơ trọn vẹn, với cổng tiếp nhận MÔ PHỎNG"))

    _step(1, pick(language, "Validate the exports (QĐ 4750/3176 schemas and business rules)",
                  "Kiểm tra hồ sơ XML (lược đồ và quy tắc nghiệp vụ)"))
    tables = [examples / "tables" / "XML1_referral_3176.xml", examples / "tables" / "XML13_referral_3176.xml"]
    for path in [*(examples / n for n in VALID), *tables, examples / INVALID]:
        report = validate_bytes(path.read_bytes(), path.name)
        mark = "[green]PASS[/]" if report.valid else "[red]FAIL[/]"
        output.stdout.print(f"  {mark} {escape(path.name)} [dim]({report.kind}, {report.standard})[/]")
        for f in report.errors[:1]:
            output.stdout.print(f"       [red]✗[/] {escape(f.message(language))}")

    _step(2, pick(language, "Pack bare tables into a GIAMDINHHS envelope", "Đóng gói các bảng thành GIAMDINHHS"))
    outbox = work / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    envelope = pack([(p.name, p.read_bytes()) for p in tables], facility="79001")
    packed = outbox / f"{envelope.ma_lk}.xml"
    packed.write_bytes(envelope.data)
    output.stdout.print(f"  {escape(packed.name)}: 1 HOSO, XML1 + XML13, NOIDUNGFILE base64 "
                        f"{pick(language, 'on one line', 'trên một dòng')}")

    _step(3, pick(language, "Sign with the clinic's certificate (XML-DSig, RSA-SHA256, in CHUKYDONVI)",
                  "Ký số bằng chứng thư số của cơ sở (XML-DSig, RSA-SHA256, trong CHUKYDONVI)"))
    pki = make_test_pki(str(work / "pki"), facility="79001")
    from sohs_cli.certs import load_key_material

    signer = FileSigner(load_key_material(p12=pki.clinic_p12,
                                          password=SecretSource("p", "-", pki.password_file)))
    output.stdout.print(f"  [yellow]TEST[/] {pick(language, 'certificate', 'chứng thư số')}: "
                        f"{escape(signer.certificate.subject.rfc4514_string())}")
    signed_dir = work / "signed"
    signed_dir.mkdir(exist_ok=True)
    for path in [*(examples / n for n in VALID), packed, examples / INVALID]:
        (signed_dir / path.name).write_bytes(sign_document(path.read_bytes(), signer, source=path.name))
        note = pick(language, " (invalid, signed anyway to show what the portal answers)",
                    " (không hợp lệ, vẫn ký để xem cổng trả lời ra sao)") if path.name == INVALID else ""
        output.stdout.print(f"  signed {escape(path.name)}{escape(note)}")

    _step(4, pick(language, "Submit to the simulated portal (embedded in this process)",
                  "Gửi lên cổng tiếp nhận mô phỏng (chạy ngay trong tiến trình này)"))
    password = secrets.token_urlsafe(12)
    account = Account("79001_BV", md5_upper(password), "79001", (signer.certificate,))
    portal = Portal(PortalConfig(data_dir=str(work / "portal"), accounts={account.username: account},
                                 processing_delay=0))
    os.environ["SOHS_DEMO_PASSWORD"] = password
    ledger = Ledger(work / "home")

    async def deliver() -> list[dict[str, object]]:
        client = PortalClient("http://portal.demo", "79001_BV", SecretSource("portal password", "SOHS_DEMO_PASSWORD"),
                              transport=httpx.ASGITransport(app=portal))
        try:
            files = sorted(str(p) for p in signed_dir.iterdir())
            # the portal trusts the registered certificate; so does the client, through the TEST CA
            summary = await submit_files(files, client, ledger, SubmitOptions(trust=Trust.of_ca_bundle(pki.ca_cert)))
            for item in summary.items:
                output.stdout.print(f"  [green]{item.status}[/] {escape(Path(item.path).name)}: {escape(item.message)}")
            _step(5, pick(language, "Status after the portal processed the files (sohs status --refresh)",
                          "Kết quả sau khi cổng xử lý (sohs status --refresh)"))
            await refresh(ledger, client)
            return [as_dict(r) for r in ledger.select()]
        finally:
            await client.close()
            await portal.stop()

    try:
        docs = asyncio.run(deliver())
    finally:
        ledger.close()
        os.environ.pop("SOHS_DEMO_PASSWORD", None)
    for d in docs:
        colour = "green" if d["state"] == "accepted" else "red"
        output.stdout.print(f"  [{colour}]{d['state']:8}[/] {escape(Path(str(d['path'])).name)} "
                            f"[dim]maGiaoDich {d['transaction_id']}[/]")
        for e in list(d["errors"])[:3]:  # type: ignore[call-overload]
            output.stdout.print(f"           [red]✗[/] {escape(str(e.get('truong')))} ({escape(str(e.get('nhan')))}): "
                                f"{escape(str(e.get('moTa') if language == 'vi' else e.get('moTaEn')))}")
    output.stdout.print("\n" + pick(language, "Next: sohs init (your settings) · sohs doctor (check them) · "
                                              "sohs run (the nightly job; see the README for cron)",
                                    "Tiếp theo: sohs init · sohs doctor · sohs run (chạy hằng đêm, xem README)"))
