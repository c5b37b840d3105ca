"""``sohs demo``: the whole flow in one command, with nothing to prepare (the README's first command).

Everything is real: the shipped example documents, TEST certificates made on the spot, our XML-DSig,
the ledger, and the simulated portal, embedded in this process (the same ASGI app as
``sohs portal serve``, reached through ``httpx.ASGITransport``; no socket is opened).
"""

from __future__ import annotations

import typer

from sohs_cli.cli import output
from sohs_cli.cli.output import escape, say
from sohs_cli.foundation.i18n import _

VALID = ("referral_episode_3176.xml", "appointment_episode_3176.xml")
INVALID = "invalid_card_length_3176.xml"
CHECKUP = "checkup_adult_2062.xml"
GLN = "8930000000017"  # the 13-digit facility ID of the example checkup record (MA_GTIN_CSKCB)


def _step(n: int, title: str) -> None:
    output.stdout.print(f"\n[bold cyan]{n}/6 {escape(title)}[/]")


def register(app: typer.Typer) -> None:
    @app.command(help=_("See the whole flow work: validate, pack, sign, submit to an embedded simulated portal, "
                        "status. Nothing to prepare."))
    def demo(
        directory: str | None = typer.Option(None, "--dir", help=_("Keep the demo's files in DIR (default: a "
                                                                    "temporary folder, removed afterwards).")),
        lang: str | None = output.lang_option(),
    ) -> None:

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

    from sohs_cli.cli.status import STATE_WORDS, as_dict
    from sohs_cli.cli.submit import WORDS
    from sohs_cli.documents.kinds import pack
    from sohs_cli.documents.samples import examples_dir
    from sohs_cli.foundation.credentials import SecretSource
    from sohs_cli.mockportal.accounts import Account, md5_upper
    from sohs_cli.mockportal.app import Portal, PortalConfig
    from sohs_cli.portal.client import PortalClient
    from sohs_cli.portal.hub import HubClient
    from sohs_cli.signing.sign import FileSigner, sign_document
    from sohs_cli.signing.testpki import make_test_pki
    from sohs_cli.signing.trust import Trust
    from sohs_cli.submission.ledger import Ledger
    from sohs_cli.submission.submit import SubmitOptions, refresh, submit_files
    from sohs_cli.validation.engine import validate_bytes

    language = output.language(lang)
    work = Path(root)
    examples = examples_dir()
    output.stdout.print(say("sohs demo: a clinic's night, start to finish, against a SIMULATED portal"))

    _step(1, _("Validate the exports (QĐ 4750/3176 schemas and business rules)"))
    tables = [examples / "tables" / "XML1_referral_3176.xml", examples / "tables" / "XML13_referral_3176.xml"]
    for path in [*(examples / n for n in VALID), *tables, examples / INVALID]:
        report = validate_bytes(path.read_bytes(), path.name)
        mark = f"[green]{say('PASS')}[/]" if report.valid else f"[red]{say('FAIL')}[/]"
        output.stdout.print(f"  {mark} {escape(path.name)} [dim]({escape(report.kind)}, {escape(report.standard)})[/]")
        for f in report.errors[:1]:
            output.stdout.print(f"       [red]✗[/] {escape(f.message(language))}")

    _step(2, _("Pack bare tables into a GIAMDINHHS envelope"))
    outbox = work / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    envelope = pack([(p.name, p.read_bytes()) for p in tables], facility="79001")
    packed = outbox / f"{envelope.ma_lk}.xml"
    packed.write_bytes(envelope.data)
    output.stdout.print(f"  {escape(packed.name)}: " + say("1 HOSO, XML1 + XML13, NOIDUNGFILE base64 on one line"))

    _step(3, _("Sign with the clinic's certificate (XML-DSig, RSA-SHA256, in CHUKYDONVI)"))
    pki = make_test_pki(str(work / "pki"), facility="79001")
    from sohs_cli.signing.certs import load_key_material

    signer = FileSigner(load_key_material(p12=pki.clinic_p12,
                                          password=SecretSource("p", "-", pki.password_file)))
    subject = signer.certificate.subject.rfc4514_string()
    output.stdout.print(f"  [yellow]{say('TEST certificate:')}[/] {escape(subject)}")
    signed_dir = work / "signed"
    signed_dir.mkdir(exist_ok=True)
    for path in [*(examples / n for n in VALID), packed, examples / INVALID]:
        (signed_dir / path.name).write_bytes(sign_document(path.read_bytes(), signer, source=path.name))
        if path.name == INVALID:
            output.stdout.print("  " + say("signed {file} (invalid, signed anyway to show what the portal answers)",
                                           file=path.name))
        else:
            output.stdout.print("  " + say("signed {file}", file=path.name))

    doctor = FileSigner(load_key_material(p12=pki.doctor_p12, password=SecretSource("p", "-", pki.password_file)))
    checkup = work / "checkup" / CHECKUP
    checkup.parent.mkdir(exist_ok=True)
    checkup.write_bytes(sign_document(sign_document((examples / CHECKUP).read_bytes(), doctor, role="doctor"),
                                      signer, role="facility"))

    _step(4, _("Submit to the simulated portal (embedded in this process)"))
    password = secrets.token_urlsafe(12)
    from sohs_cli.portal.hubmessage import load_message_key, load_public_key

    account = Account("79001_BV", md5_upper(password), "79001", (signer.certificate, doctor.certificate),
                      gln=GLN, message_keys=(load_public_key(pki.hub_key_public),))
    portal = Portal(PortalConfig(data_dir=str(work / "portal"), accounts={account.username: account},
                                 processing_delay=0, hub_key=pki.hub_own_key))
    os.environ["SOHS_DEMO_PASSWORD"] = password
    ledger = Ledger(work / "home")

    async def deliver() -> list[dict[str, object]]:
        password = SecretSource(_("portal password"), "SOHS_DEMO_PASSWORD")
        client = PortalClient("http://portal.demo", "79001_BV", password, transport=httpx.ASGITransport(app=portal))
        try:
            files = sorted(str(p) for p in signed_dir.iterdir())
            # the portal trusts the registered certificate; so does the client, through the TEST CA
            trust = Trust.of_ca_bundle(pki.ca_cert)
            summary = await submit_files(files, client, ledger, SubmitOptions(trust=trust))
            for item in summary.items:
                word = escape(_(WORDS.get(item.status, item.status)))
                output.stdout.print(f"  [green]{word}[/] {escape(Path(item.path).name)}: {escape(item.message)}")
            _step(5, _("A checkup record (QĐ 2062) to the Ministry of Health's data hub, simulated: signed by the "
                       "doctor, then by the facility over it; the push signed with the hub's message key"))
            hub = HubClient("http://portal.demo", "79001_BV", password, transport=httpx.ASGITransport(app=portal),
                            gln=GLN, message_key=load_message_key(pki.hub_key, SecretSource("", "-")),
                            reply_key=load_public_key(pki.hub_own_key_public))  # the hub's replies verified
            try:
                pushed = await submit_files([str(checkup)], client, ledger, SubmitOptions(trust=trust), hub=hub)
            finally:
                await hub.close()
            for item in pushed.items:
                word = escape(_(WORDS.get(item.status, item.status)))
                output.stdout.print(f"  [green]{word}[/] {escape(Path(item.path).name)} ({escape(item.code)}): "
                                    f"{escape(item.message)}")
            _step(6, _("Status after the portal processed the files (sohs status --refresh)"))
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
        state = _(STATE_WORDS[str(d["state"])]).ljust(max(len(_(w)) for w in STATE_WORDS.values()))
        output.stdout.print(f"  [{colour}]{escape(state)}[/] {escape(Path(str(d['path'])).name)} "
                            f"[dim]maGiaoDich {escape(str(d['transaction_id']))}[/]")
        for e in list(d["errors"])[:3]:  # type: ignore[call-overload]
            output.stdout.print(f"           [red]✗[/] {escape(str(e.get('truong')))} ({escape(str(e.get('nhan')))}): "
                                f"{escape(str(e.get('moTa') if language == 'vi' else e.get('moTaEn')))}")
    output.stdout.print("\n" + say("Next: sohs init (your settings) · sohs doctor (check them) · "
                                    "sohs run (the nightly job; see the README for cron)"))
