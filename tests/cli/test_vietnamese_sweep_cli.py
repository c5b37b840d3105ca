"""A Vietnamese-speaking clinic admin never meets an English sentence (issue 17, "Done when"): the main
commands under ``--lang vi`` on good and bad input (a missing file, a wrong password, a portal that
does not answer, a portal that refuses), each output checked for English.

The check is a heuristic, honest about what it leaves out: it looks for common English words
(``ENGLISH``) in what sohs writes, after removing what is data or a name, not a sentence
(``not_words``): paths and URLs, element codes (``MA_THE_BHYT``), environment variables, option names
(``--portal``), quoted values, fingerprints and hex, the certificate subjects of the test PKI (their
names are English: "Test Clinic"), and the technical names every language keeps (PKCS#12, XML-DSig,
RSA-SHA256, HTTP, TLS)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sohs_cli.cli.app import build_app
from sohs_cli.signing.sign import FileSigner, sign_document
from sohs_cli.signing.testpki import TestPki
from tests.portal_helpers import GLN, USER, free_port, served

runner = CliRunner()
#: words of English sentences; each with its spaces so a Vietnamese syllable never matches
ENGLISH = [" the ", " is ", " are ", " not ", " file", " run ", "error:", "hint:", "warning:", "Usage", " and ",
           " with ", " from ", " cannot ", " could ", " must ", " should ", " was ", " were ", " has ", " have ",
           " to ", " of ", " for ", " no ", " or ", " this ", " it ", "PASS", "FAIL", " valid", " signed",
           " sent", " rejected", " accepted", " folder", " password", " portal", " check ", " give ", " set ",
           "Error", "Warning", " found", " missing", " written", " skipped", " retry", " later", " at ", " on ",
           " by ", " be ", " in ", " unknown", " needs ", " refused", " signature", " key ", " line "]


def not_words(text: str, tmp: Path) -> str:
    """``text`` without data and names (see the module's docstring)."""
    text = text.replace(str(tmp), " ")
    text = re.sub(r"(?<=│) *[\w./-]+ *(?=│)", " ", text)  # a table cell of one word: a value
    text = re.sub(r"[│╭╮╰╯─┃━╇]", " ", text)
    text = re.sub(r"\bsohs(?: [a-z][a-z-]*){1,2}", " ", text)  # commands: sohs portal serve
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", " ", text)  # settings: folders.sent
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`", " ", text)  # quoted values
    text = re.sub(r"(?<![\w-])--?[a-z][\w-]*", " ", text)  # options
    text = re.sub(r"\$?\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", " ", text)  # element codes, variables
    text = re.sub(r"\b[0-9A-Fa-f:]{16,}\b", " ", text)  # fingerprints, serials
    text = re.sub(r"\b(?:CN|O|OU|C|L|ST)=[^,\n]*", " ", text)  # certificate subjects
    text = re.sub(r"Test (?:Clinic|Doctor|CA)\b[\w ]*", " ", text)
    text = re.sub(r"\S+\.(?:xml|p12|pem|toml|json|log|sqlite3)\b", " ", text)  # file names
    return " " + re.sub(r"[ \t]+", " ", text) + " "


def english_in(text: str, tmp: Path) -> list[str]:
    cleaned = not_words(text, tmp)
    return [w for w in ENGLISH if w in cleaned]


@pytest.fixture
def area(tmp_path: Path, pki: TestPki, examples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOHS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOHS_P12_PASSWORD", Path(pki.password_file).read_text(encoding="utf-8").strip())
    monkeypatch.setenv("SOHS_PORTAL_PASSWORD", "matkhau-thu-nghiem")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("SOHS_VERIFY_CA_BUNDLE", pki.ca_cert)
    shutil.copy(examples / "referral_episode_3176.xml", tmp_path / "good.xml")
    shutil.copy(examples / "invalid_appointment_before_discharge_3176.xml", tmp_path / "bad.xml")
    return tmp_path


def vi(*args: str) -> tuple[int, str]:
    words = ["--lang", "vi", *args]
    result = runner.invoke(build_app(words), words)
    return result.exit_code, result.stdout + result.stderr


def scenarios(area: Path, pki: TestPki) -> list[tuple[str, list[str], set[int]]]:
    """(what, command line, the exit codes it may end with)."""
    dead = f"http://127.0.0.1:{free_port()}"
    signed = str(area / "signed.xml")
    night = area / "night"
    (night / "outbox").mkdir(parents=True)
    shutil.copy(area / "good.xml", night / "outbox" / "good.xml")
    (night / "sohs.toml").write_text(
        f'facility = "79001"\n[portal]\nurl = "{dead}"\nusername = "79001_BV"\n[signing]\np12 = "{pki.clinic_p12}"\n'
        f'[folders]\noutbox = "{night / "outbox"}"\nsent = "{night / "sent"}"\nrejected = "{night / "rejected"}"\n'
        f'failed = "{night / "failed"}"\n[run]\nsettle_seconds = 0\n', encoding="utf-8")
    return [
        ("validate good and bad", ["validate", str(area / "good.xml"), str(area / "bad.xml")], {1}),
        ("validate missing", ["validate", str(area / "none.xml")], {2}),
        ("validate quiet", ["validate", "--quiet", str(area / "bad.xml")], {1}),
        ("pack", ["pack", str(area / "good.xml"), "--facility", "79001", "-o", str(area / "packed.xml")], {0, 1}),
        ("unpack missing", ["unpack", str(area / "none.xml"), "-d", str(area / "out")], {2}),
        ("sign", ["sign", "--p12", pki.clinic_p12, str(area / "good.xml"), "-o", signed], {0}),
        ("sign wrong password", ["sign", "--p12", pki.clinic_p12, "--password-env", "WRONG_PASSWORD",
                                 str(area / "good.xml"), "-o", str(area / "x.xml")], {3}),
        ("sign missing", ["sign", "--p12", pki.clinic_p12, str(area / "none.xml"), "-o", str(area / "y.xml")], {2}),
        ("verify", ["verify", "--ca-bundle", pki.ca_cert, signed], {0}),
        ("verify untrusted", ["verify", "--cert", pki.doctor_cert, signed], {1}),
        ("verify unsigned", ["verify", "--ca-bundle", pki.ca_cert, str(area / "good.xml")], {1}),
        ("verify missing", ["verify", str(area / "none.xml")], {2}),
        ("submit dead portal", ["submit", "--portal", dead, "--username", "79001_BV", signed], {4}),
        ("submit unsigned", ["submit", "--portal", dead, "--username", "79001_BV", str(area / "good.xml")], {1}),
        ("submit no portal", ["submit", signed], {3}),
        ("status after a dead portal", ["status"], {0, 1}),
        ("cert show", ["cert", "show", pki.clinic_cert], {0}),
        ("cert show p12", ["cert", "show", pki.clinic_p12], {0}),
        ("cert show missing", ["cert", "show", str(area / "none.pem")], {2}),
        ("config show", ["config", "show"], {0}),
        ("init", ["init", str(area / "clinic")], {0}),
        ("doctor", ["doctor", "--config", str(area / "clinic" / "sohs.toml")], {3}),
        ("run without a key", ["run", "--config", str(area / "clinic" / "sohs.toml")], {3}),
        ("run dead portal", ["run", "--config", str(night / "sohs.toml")], {4}),
        ("doctor dead portal", ["doctor", "--config", str(night / "sohs.toml")], {3, 4}),
        ("status after the night", ["status", "--config", str(night / "sohs.toml")], {0, 1}),
        ("portal serve help", ["portal", "serve", "--help"], {0}),
        ("dashboard help", ["dashboard", "--help"], {0}),
    ]


def test_the_main_commands_speak_only_vietnamese(area: Path, pki: TestPki) -> None:
    found = []
    for what, args, codes in scenarios(area, pki):
        code, out = vi(*args)
        english = english_in(out, area)
        if code not in codes or english:
            found.append(f"--- {what}: exit {code} (expected {sorted(codes)}), English {english}\n{out}")
    assert not found, "\n".join(found)


def test_the_main_commands_in_english_carry_no_vietnamese_gloss(area: Path, pki: TestPki) -> None:
    """One language per run the other way round: the same commands under ``--lang en`` show no
    Vietnamese in parentheses beside English (an element's label, a decision's citation, the portal's
    own words and data such as a certificate's subject are not glosses)."""
    from tests.unit.test_no_english_literals import glosses

    found = []
    for what, args, codes in scenarios(area, pki):
        words = ["--lang", "en", *args]
        result = runner.invoke(build_app(words), words)
        out = re.sub(r"\b(?:CN|O|OU|L|ST)=[^,\n]*", " ", result.stdout + result.stderr)  # subjects: data
        gloss = glosses(_without_portal_words(out))
        if result.exit_code not in codes or gloss:
            found.append(f"--- {what}: exit {result.exit_code} (expected {sorted(codes)}), glosses {gloss}\n{out}")
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_demo_speaks_only_vietnamese(area: Path) -> None:
    """The whole flow against the embedded portal, a rejection included."""
    code, out = vi("demo", "--dir", str(area / "demo"))
    assert code == 0, out
    assert not english_in(out, area), (english_in(out, area), out)


def test_the_heuristic_sees_english() -> None:
    """The check can fail: English sentences and words of sohs's English run are caught, data is not."""
    tmp = Path("/tmp/x")
    assert english_in("error: the file is not signed", tmp)
    assert english_in("PASS good.xml", tmp)
    assert not english_in("lỗi: /tmp/x/the file.xml: MA_THE_BHYT (Mã thẻ BHYT) 'is not' --portal", tmp)


# ------------------------------------------------------------------ checkup records and the hub
def example(name: str) -> str:
    return str(Path(__file__).resolve().parents[2] / "examples" / name)


def checkup_scenarios(area: Path, pki: TestPki, base: str, clinic: FileSigner, doctor: FileSigner,
                      slow: str) -> list[tuple[str, str, list[str], set[int]]]:
    """(what, the settings file's text, command line, exit codes): the CMS signatures of a checkup
    record, its JSON form, packing, the simulated portal's accounts file and the hub's refusals, against
    ``sohs portal serve`` on loopback (``slow``: one whose tokens expire before a push is answered)."""
    raw = (Path(__file__).resolve().parents[2] / "examples" / "checkup_adult_2062.xml").read_bytes()
    record = area / "ksk.xml"
    record.write_bytes(sign_document(sign_document(raw, doctor, role="doctor"), clinic))
    tampered = area / "ksk-tampered.xml"
    tampered.write_bytes(record.read_bytes().replace(b"<NGAYLAP>", b"<NGAYLAP>1", 1))
    (area / "cut.json").write_bytes(b'{"khamsuckhoe": {"thongtindonvi": ')
    (area / "wrong.json").write_bytes(b'{"wrong": {}}')
    table = (Path(__file__).resolve().parents[2] / "examples" / "tables" / "XML1_referral_3176.xml").read_bytes()
    (area / "bad-table.xml").write_bytes(table.replace(b"<MA_THE_BHYT>", b"<MA_THE_BHYT>X", 1))
    (area / "accounts.toml").write_text('[[account]]\nusername = "x"\n', encoding="utf-8")
    hub = (f'[portal]\nurl = "{base}"\nusername = "{USER}"\n'
           f'[hub]\nurl = "{base}"\ngln = "{GLN}"\nusername = "{USER}"\nmessage_key = "{pki.hub_key}"\n')
    ok = f'password_env = "SOHS_PORTAL_PASSWORD"\nreply_key = "{pki.hub_own_key_public}"\n'
    return [
        ("verify tampered checkup", "", ["verify", "--ca-bundle", pki.ca_cert, str(tampered)], {1}),
        ("validate base64 with line breaks", "", ["validate", example("invalid_base64_line_breaks.xml")], {1}),
        ("validate checkup of mixed forms", "", ["validate", example("invalid_checkup_mixed_forms_2062.xml")], {1}),
        ("validate checkup without a name", "", ["validate", example("invalid_checkup_missing_name_2062.xml")],
         {1}),
        ("validate cut JSON", "", ["validate", str(area / "cut.json")], {1}),
        ("validate wrong JSON", "", ["validate", str(area / "wrong.json")], {1}),
        ("unpack a table as JSON", "", ["unpack", "--json", str(area / "good.xml"), "-d", str(area / "j")], {1}),
        ("pack invalid", "", ["pack", str(area / "bad-table.xml"), "--facility", "79001", "-o",
                              str(area / "p.xml")], {1}),
        ("portal serve bad accounts", "", ["portal", "serve", "--accounts", str(area / "accounts.toml"),
                                           "--data-dir", str(area / "mock")], {3}),
        ("checkup of another facility", 'facility = "79001"\n' + hub + ok, ["submit", str(record)], {1}),
        ("hub wrong password", hub + 'password_env = "SOHS_SWEEP_WRONG_HUB_PASSWORD"\n', ["submit", str(record)], {3}),
        ("hub wrong message key", hub.replace(pki.hub_key, pki.clinic_key) + ok, ["submit", str(record)], {3}),
        ("hub reply by another key", hub + ok.replace(pki.hub_own_key_public, pki.hub_key_public),
         ["submit", str(record)], {3}),
        ("hub without a message key", hub.replace(f'message_key = "{pki.hub_key}"\n', "") + ok,
         ["submit", str(record)], {3}),
        ("hub 404", hub.replace(f'url = "{base}"', f'url = "{base}/nothing"') + ok, ["submit", str(record)], {3}),
        ("hub bad gln", hub.replace(GLN, "123") + ok, ["submit", str(record)], {3}),
        ("hub refusing the token", hub.replace(f'url = "{base}"', f'url = "{slow}"') + ok, ["submit", str(record)],
         {3}),
    ]


def _run_in(lang: str, settings: str, area: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[int, str]:
    config = area / "hub.toml"
    config.write_text(settings, encoding="utf-8")
    if settings:
        monkeypatch.setenv("SOHS_CONFIG", str(config))
    else:
        monkeypatch.delenv("SOHS_CONFIG", raising=False)
    words = ["--lang", lang, *args]
    result = runner.invoke(build_app(words), words)
    return result.exit_code, result.stdout + result.stderr


def _without_portal_words(text: str) -> str:
    """The portal's own reply (``CM_AUTH_ACCOUNT_FAIL: Sai tên đăng nhập…``) is data, in its language."""
    return re.sub(r"\b[A-Z][A-Z0-9_]+: [^)\n]*", " ", text)


def test_checkup_signatures_json_and_the_hub_speak_one_language(area: Path, pki: TestPki, clinic: FileSigner,
                                                                doctor: FileSigner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Vietnamese: no English sentence; English: no Vietnamese gloss (issue 17), on the messages of the
    CMS signatures, the checkup JSON form, packing and the checkup hub's client."""
    from tests.unit.test_no_english_literals import glosses

    found = []
    monkeypatch.setenv("SOHS_SWEEP_WRONG_HUB_PASSWORD", "sai-mat-khau")
    (area / "slow").mkdir()
    with served(area, pki, "--hub-key", pki.hub_own_key) as base, \
            served(area / "slow", pki, "--token-ttl", "1", "--latency", "1.2") as slow:
        for what, settings, args, codes in checkup_scenarios(area, pki, base, clinic, doctor, slow):
            code, out = _run_in("vi", settings, area, monkeypatch, args)
            english = english_in(out, area)
            if code not in codes or english:
                found.append(f"--- {what} (vi): exit {code} (expected {sorted(codes)}), English {english}\n{out}")
            code, out = _run_in("en", settings, area, monkeypatch, args)
            gloss = glosses(_without_portal_words(out))
            if code not in codes or gloss:
                found.append(f"--- {what} (en): exit {code} (expected {sorted(codes)}), glosses {gloss}\n{out}")
    assert not found, "\n".join(found)
