"""The message catalogs: every message of the code exists in both languages (issue 17).

English is the message id, so "both languages" means: every literal message handed to the catalog
API (``_``, ``_n``, ``N_``, ``both``, ``say``, ``translate``, ``ntranslate``) has a reviewed (not fuzzy)
Vietnamese translation, with the same ``{fields}``. A missing one fails with the ``.po`` entry to add.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sohs_cli.foundation import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "sohs_cli" / "locale" / "vi" / "LC_MESSAGES" / "sohs.po"
FIRST_ARG = {"_", "_n", "N_", "both", "say"}  # the message is the first argument (_n: and the second)
SECOND_ARG = {"translate", "ntranslate"}  # the language comes first


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def messages_in_code(root: Path = ROOT) -> dict[str, str]:
    """Every literal message id in sohs_cli -> where it is (file:line)."""
    found: dict[str, str] = {}
    for path in sorted((root / "sohs_cli").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            args = node.args[1:] if name in SECOND_ARG else node.args if name in FIRST_ARG else []
            if name in ("_n", "ntranslate"):
                args = args[:2]
            elif args:
                args = args[:1]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"{path.relative_to(root)}:{node.lineno}")
    return found


def catalog() -> dict[str, tuple[str, bool]]:
    """msgid -> (Vietnamese text, fuzzy); a plural entry under its singular."""
    with open(PO, "rb") as fh:
        cat = read_po(fh, locale="vi")
    out: dict[str, tuple[str, bool]] = {}
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        text = m.string if isinstance(m.string, str) else m.string[0]
        for msgid in ids:
            out[msgid] = (text, m.fuzzy)
    return out


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_of_the_code_has_a_vietnamese_translation() -> None:
    code, vi = messages_in_code(), catalog()
    assert code, "the scan found no message: the scanner is broken"
    missing = [(m, where) for m, where in code.items() if not vi.get(m, ("", False))[0] or vi[m][1]]
    entries = "\n".join(f'#: {where}\nmsgid "{m}"\nmsgstr ""\n' for m, where in missing)
    assert not missing, f"{len(missing)} message(s) without a (reviewed) Vietnamese text; add to {PO}:\n{entries}"


def test_translations_keep_every_field() -> None:
    wrong = [(m, text) for m, (text, _) in catalog().items() if text and fields(m) != fields(text)]
    assert not wrong, "\n".join(f"{m!r} -> {text!r}" for m, text in wrong)


def test_the_catalog_holds_no_message_the_code_dropped() -> None:
    stale = sorted(set(catalog()) - set(messages_in_code()))
    assert not stale, "remove from sohs.po (no code uses them):\n" + "\n".join(stale)


def test_no_markup_inside_messages() -> None:
    """Rich markup stays in the code around a message: a translator cannot break it, and say()
    escapes the whole text."""
    marked = [m for m in messages_in_code() if re.search(r"\[/?(bold|red|green|yellow|dim|cyan)", m)]
    assert not marked, marked


def test_the_scanner_sees_a_missing_translation(tmp_path: Path) -> None:
    """The main test can fail: a message added to the code without a catalog entry is reported."""
    pkg = tmp_path / "sohs_cli"
    pkg.mkdir()
    (pkg / "x.py").write_text('from sohs_cli.foundation.i18n import _, translate\n_("untranslated {n}", n=1)\n'
                              'translate("vi", "also untranslated")\nprint("not a message")\n')
    found = messages_in_code(tmp_path)
    assert set(found) == {"untranslated {n}", "also untranslated"}
    assert not set(found) & set(catalog())


def test_vietnamese_run_reads_the_compiled_catalog() -> None:
    assert i18n.translate("vi", "error:") == "lỗi:"
    assert i18n.translate("en", "error:") == "error:"
    assert i18n.translate("vi", "{n} error(s)", n=2) == "2 lỗi"


@pytest.mark.parametrize("value", ["fr", "de_DE", "x"])
def test_a_language_other_than_vi_or_en_is_a_usage_error(value: str) -> None:
    from sohs_cli.foundation.errors import ExitCode, UsageError

    with pytest.raises(UsageError) as exc:
        i18n.resolve_lang(value)
    assert exc.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(("value", "lang"), [("vi", "vi"), ("VI", "vi"), ("vi_VN.UTF-8", "vi"), ("en-US", "en")])
def test_language_values(value: str, lang: str) -> None:
    assert i18n.resolve_lang(value) == lang


def test_a_locale_that_is_neither_gives_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOHS_LANG")
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    assert i18n.resolve_lang() == "en"
    monkeypatch.setenv("LC_ALL", "vi_VN.UTF-8")
    assert i18n.resolve_lang() == "vi"


def test_the_catalog_is_in_order() -> None:
    """Entries grouped by file (``.ci/sort_po``): after a merge conflict, keep both sides and run it."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / ".ci" / "sort_po"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- the rules' own catalog
# Validation rules carry their two languages inline (README "Languages"; rulebase.py says why):
# ``@rule(id, severity, title_en, title_vi)`` and ``r.finding(doc, element, en, vi, ...)``. These
# tests are their catalog test: a rule or a finding with one language missing fails.

VALIDATION = ROOT / "sohs_cli" / "validation"


def _text(node: ast.expr) -> str | None:
    """The literal text of a message argument (an f-string's literal parts), None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def inline_pairs(root: Path = VALIDATION) -> list[tuple[str, str | None, str | None]]:
    """(where, English, Vietnamese) of every ``rule(...)`` title and ``.finding(...)`` message."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in ("rule", "finding") and len(node.args) >= 4:
                en, vi = node.args[2], node.args[3]
                out.append((f"{path.relative_to(root.parents[1])}:{node.lineno}", _text(en), _text(vi)))
    return out


def test_every_rule_and_finding_has_both_languages() -> None:
    pairs = inline_pairs()
    assert len(pairs) > 50, "the scan found too few rules: the scanner is broken"
    missing = [where for where, en, vi in pairs if en == "" or vi == ""]
    assert not missing, f"a rule title or finding message without one of its languages: {missing}"
    same = [f"{where}: {en!r}" for where, en, vi in pairs if en and vi and en == vi and re.search(r"[a-z]{4}", en)]
    assert not same, "a Vietnamese text that is the English one: " + "; ".join(same)


def test_every_registered_rule_has_both_titles() -> None:
    """The rules made at import (the portal sheet's, from its CSV) too, not only the literal ones."""
    from sohs_cli.validation.rules import RULES

    assert len(RULES) > 50
    for r in RULES:
        assert r.title_en.strip() and r.title_vi.strip(), r.id


def test_the_rule_scanner_sees_a_missing_language(tmp_path: Path) -> None:
    pkg = tmp_path / "sohs_cli" / "validation"
    pkg.mkdir(parents=True)
    (pkg / "x.py").write_text('@rule("x", "error", "English only", "")\ndef f(r, doc):\n'
                              '    yield r.finding(doc, "A", f"{1} is wrong", "")\n', encoding="utf-8")
    assert [(en, vi) for _, en, vi in inline_pairs(pkg)] == [("English only", ""), (" is wrong", "")]


# ---------------------------------------------------------------- a message in both languages
def test_a_message_made_in_one_language_can_be_had_in_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_()`` keeps its message id and fields (``i18n.Text``): an error raised in a Vietnamese run
    still has its English for JSON's ``message_en``, through a worker's pipe too; a field made by
    ``_()`` follows the language of the message around it."""
    import pickle

    from sohs_cli.foundation.errors import InputError

    monkeypatch.setitem(i18n._state, "lang", "vi")
    inner = i18n._("{n} error(s)", n=2)
    exc = InputError(i18n._("{file}: not valid JSON", file=inner), hint=i18n._("error:"))
    assert exc.message == "2 lỗi: không phải JSON hợp lệ"
    assert exc.message_in("en") == "2 error(s): not valid JSON" and exc.message_in("vi") == exc.message
    assert (exc.hint_in("en"), exc.hint_in("vi")) == ("error:", "lỗi:")
    again = pickle.loads(pickle.dumps(exc.message))
    assert again == exc.message and again.render("en") == "2 error(s): not valid JSON"
    assert InputError("plain text").message_in("vi") == "plain text"  # not from _(): as it is
    plural = i18n._n("{n} file", "{n} files", 3, n=3)
    assert plural.render("en") == "3 files" and plural.render("vi") == str(plural)
