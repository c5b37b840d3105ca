"""No user-visible English sentence bypasses the catalog, and no English message carries a Vietnamese
gloss (issue 17: one language per run).

``test_catalogs.py`` checks that every message handed to ``_()`` has its Vietnamese; these tests check
what it cannot see: an English literal that never reaches ``_()``. The source of ``sohs_cli`` is walked
with ``ast`` and each of these fails, naming file and line:

- an English sentence passed to the constructor of an error (a ``SohsError`` subclass, found through
  the class definitions of the package, or any other exception class the package defines), as its
  message or any keyword but ``code``;
- an English sentence as the ``hint=`` of any call, or as the question of ``.ask(...)`` (a prompt);
- an error message built with an f-string, ``+`` or ``%`` around ``_()``: the error then no longer
  keeps its message id, and a JSON report cannot give it in both languages (``SohsError.message_in``).

"English sentence": two Latin words in a row (``[A-Za-z]{2,}`` twice, diacritics excluded) in the
literal parts. A call that carries an English literal next to a Vietnamese one is an inline pair (the
validation rules' and the XML-DSig verdicts' form, checked by ``test_catalogs.py``) and passes.

Not checked, by design: builtin exceptions (``ValueError``, ``AssertionError``...) are programmer errors
or caught inside sohs; the CLI reports an uncaught one as a bug (exit 70), not as a message."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "sohs_cli" / "locale" / "vi" / "LC_MESSAGES" / "sohs.po"
VI = "ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
ENGLISH = re.compile(r"(?<![\w-])[A-Za-z]{2,}[ ,;:']+[A-Za-z]{2,}(?![\w-])")
VIETNAMESE = re.compile(f"[{VI}]", re.IGNORECASE)

#: (file, start of the literal) -> why it is not a sentence to translate. Keep it short.
ALLOWED = {
    ("sohs_cli/signing/hsm.py", "pip install"): "a command to type, the same in every language",
    ("sohs_cli/dashboard/serve.py", "python3 -c"): "a command to type, the same in every language",
}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _literal(node: ast.expr) -> str | None:
    """The literal text of ``node`` (an f-string's or a concatenation's literal parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        parts = [_literal(node.left), _literal(node.right)]
        return "".join(p for p in parts if p) if any(p is not None for p in parts) else None
    return None


def _composed(node: ast.expr) -> bool:
    """An f-string or ``+``/``%`` holding a ``_()`` call: the message id is lost."""
    if not isinstance(node, (ast.JoinedStr, ast.BinOp)):
        return False
    return any(isinstance(n, ast.Call) and _name(n.func) in ("_", "_n") for n in ast.walk(node))


def error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """The exception classes the package defines: ``SohsError`` and what derives from it, and any class
    derived from ``Exception``."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    found = {"SohsError"}
    while True:
        more = {c for c, bs in bases.items() if c not in found and bs & (found | {"Exception"})}
        if not more:
            return found
        found |= more


def problems(root: Path = ROOT) -> list[str]:
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted((root / "sohs_cli").rglob("*.py"))}
    errors = error_classes(trees)
    out = []
    for path, tree in trees.items():
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in errors:
                args = [*node.args, *(k.value for k in node.keywords if k.arg != "code")]
            elif name == "ask" and isinstance(node.func, ast.Attribute):
                args = node.args[:1]
            else:
                args = []
            args += [k.value for k in node.keywords if k.arg == "hint" and name not in errors]
            texts = [t for t in map(_literal, args) if t]
            pair = any(VIETNAMESE.search(t) for t in texts) and any(not VIETNAMESE.search(t) for t in texts)
            for arg in args:
                text = _literal(arg)
                where = f"{rel}:{arg.lineno}"
                if name in errors and arg is (node.args[0] if node.args else None) and _composed(arg):
                    out.append(f"{where}: {name}(...) message composed around _(): give _() the whole "
                               "message, its parts as fields")
                    continue
                if not text or not ENGLISH.search(text) or pair or _composed(arg):
                    continue
                if any(rel == f and text.startswith(start) for f, start in ALLOWED):
                    continue
                out.append(f"{where}: English literal not from the catalog in {name}(...): {text[:70]!r}")
    return out


def test_no_english_literal_reaches_the_user_without_the_catalog() -> None:
    found = problems()
    assert not found, "wrap each in _() (and add its Vietnamese to sohs.po):\n" + "\n".join(found)


def test_the_allow_list_is_still_needed() -> None:
    """An allowed literal that is gone (moved, translated) is removed from ``ALLOWED``."""
    for (file, start), _why in ALLOWED.items():
        assert start in (ROOT / file).read_text(encoding="utf-8"), (file, start)


def test_the_scanner_sees_an_english_error(tmp_path: Path) -> None:
    pkg = tmp_path / "sohs_cli"
    pkg.mkdir()
    (pkg / "x.py").write_text(
        "class SohsError(Exception): ...\n"
        "class HubError(SohsError): ...\n"
        "class Other(Exception): ...\n"
        'raise HubError(f"the hub refused {user}", hint=_("check the password"))\n'  # found: message
        'raise HubError(_("the hub refused {user}", user=u), hint="check the password")\n'  # found: hint
        'raise Other("profile", "not a CMS SignedData")\n'  # found: a class of the package
        'raise HubError(f"{path}: " + _("cannot read it"))\n'  # found: composed
        'password.ask("Hub password: ")\n'  # found: a prompt
        'raise Other("profile", "the digest is wrong", "thuật toán băm sai")\n'  # an inline pair: passes
        'raise HubError(_("the hub refused {user}", user=u), code="hub-refused")\n'  # passes
        'raise ValueError("not one of the languages")\n',  # a builtin: passes
        encoding="utf-8")
    found = problems(tmp_path)
    assert [f.split(":")[1] for f in found] == ["4", "5", "6", "7", "8"], found


# ------------------------------------------------------------------ glosses
#: Vietnamese in parentheses that is a name, not a gloss: the portal's own menu and page names, which
#: the user finds in Vietnamese on the portal whatever the language of sohs.
PORTAL_NAMES = ("Kết quả gửi hồ sơ XML", "menu Danh mục chứng thư số", "Quản trị hệ thống")


def glosses(text: str) -> list[str]:
    """Parenthesised Vietnamese in an English text that is not an element's label (``MA_THE_BHYT (Mã
    thẻ BHYT)``), a citation of a decision (``(QĐ 4750 Bảng 1 #16)``, ``(PL4750 ghi chú)``: its own words)
    or a portal name."""
    out = []
    text = re.sub(r"\b[A-Z][A-Z0-9_]* \((?:[^()]|\([^()]*\))*\)", " ", text)  # labels: "Tuần thai (tuần)"
    for m in re.finditer(r"(\S+)?\s*\(([^()]*)\)", text):
        before, inner = m.group(1) or "", m.group(2).replace("QĐ", "")
        if not VIETNAMESE.search(inner) or re.fullmatch(r"<?[A-Z][A-Z0-9_]*>?,?", before):
            continue
        if re.match(r"\s*(?:QĐ|PL\d)", m.group(2)):  # a citation
            continue
        if not any(name in inner for name in PORTAL_NAMES):
            out.append(m.group(0))
    return out


def english_texts() -> list[tuple[str, str]]:
    """(where, English text) of every catalog message id and every English side of an inline pair."""
    with open(PO, "rb") as fh:
        cat = read_po(fh, locale="vi")
    out = [(f"sohs.po {m.locations[0][0] if m.locations else ''}", i) for m in cat
           for i in (m.id if isinstance(m.id, tuple) else (m.id,)) if i]
    for path in sorted((ROOT / "sohs_cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "message_en"
                                                    for t in node.targets):
                targets = [node.value]
            elif isinstance(node, ast.Call) and len(node.args) >= 3 and _name(node.func) in ("_Fail", "finding",
                                                                                              "rule", "_plain"):
                targets = [node.args[-2] if _name(node.func) == "_Fail" else node.args[2]]
            out += [(f"{path.relative_to(ROOT)}:{node.lineno}", t) for t in map(_literal, targets) if t]
    return out


def test_no_english_message_carries_a_vietnamese_gloss() -> None:
    found = [f"{where}: {g!r} in {text[:90]!r}" for where, text in english_texts() for g in glosses(text)]
    assert not found, "one language per run: move the Vietnamese to the catalog's msgstr:\n" + "\n".join(found)


def test_the_gloss_check_sees_a_gloss() -> None:
    assert glosses("MACSKCB 01001 is not the configured facility (sai mã cơ sở)") == ["facility (sai mã cơ sở)"]
    assert not glosses("CKS_BENH_VIEN (Chữ ký số bệnh viện) is empty (QĐ 2062 Phụ lục 01)")
    assert not glosses("register it on the portal (menu Danh mục chứng thư số)")
    assert not glosses("TUAN_THAI (Tuần thai khi sinh (tuần)) is a field of Form 1")


# ------------------------------------------------------------------ `_` rebound
def _rebinds_underscore(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[int]:
    """Lines where ``func`` itself (not a nested function or comprehension) binds ``_`` while it also
    calls ``_()``: Python then takes ``_`` as a local for the whole function."""
    stores, calls = [], False
    todo: list[ast.AST] = list(func.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                             ast.DictComp, ast.GeneratorExp, ast.ClassDef)):
            continue
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
            stores.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
            calls = True
        todo.extend(ast.iter_child_nodes(node))
    return stores if calls else []


def underscore_rebound(root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / "sohs_cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out += [f"{path.relative_to(root)}:{line}" for line in _rebinds_underscore(node)]
    return out


def test_no_function_rebinds_the_message_function() -> None:
    """``for p, _ in tables: … _("invalid table")`` raises UnboundLocalError (or calls bytes): name it
    ``_data``."""
    found = underscore_rebound()
    assert not found, found


def test_the_rebinding_check_sees_one(tmp_path: Path) -> None:
    pkg = tmp_path / "sohs_cli"
    pkg.mkdir()
    (pkg / "x.py").write_text('def f(rows):\n    for p, _ in rows:\n        print(_("x"))\n'
                              'def g(rows):\n    return [_ for _ in rows], _("y")\n', encoding="utf-8")
    assert underscore_rebound(tmp_path) == ["sohs_cli/x.py:2"]
