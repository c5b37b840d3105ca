"""The import layers of ``sohs_cli`` (issue 19), read from the source with ``ast``.

Every module belongs to a package, the first name after ``sohs_cli`` (``sohs_cli.validation.reporting.sarif``
belongs to ``validation``). The packages are ranked, lowest first (:data:`RANKS`)::

    0  sohs_cli            its __init__: the version, nothing else
    1  foundation          errors, i18n, config, secrets, file I/O, the hardened parser, the process pool
    2  documents           kinds, detection, envelopes, pack/unpack, the shipped schemas
    3  validation          XSD + rules -> report objects; reporting/, packing, splitting
    4  signing             profile, sign, batch, verify, certificates, tokens, test PKI
    5  portal              the clients of the BHXH gateway and of the checkup hub
    6  submission          the ledger, submit, the nightly run, doctor's checks
    7  mockportal          the simulated gateway and hub   } peers: neither imports the other
    7  dashboard           the read-only web page          }
    8  cli                 the commands
    9  sohs_cli.__main__

The rules, over every import statement of a module (at module level, inside a function, under
``if TYPE_CHECKING:``; a lazy import is still a dependency):

1. **Layers.** A module imports modules of its own package, or of a package of a strictly lower rank.
2. **No circle** between modules, inside a package too (``mockportal.app`` and its handlers imported
   each other; now the handlers know :class:`sohs_cli.mockportal.context.PortalContext` only).
3. **Light packages.** A package's ``__init__.py`` imports nothing: importing one module of a
   package never costs the start-up of the others.
4. **Every module is placed.** A module outside the ranked packages fails: a new package gets a rank
   here (and a line in CONTRIBUTING.md) in the same commit.
5. **Each library where it is owned** (STYLE.md principle 4, :data:`OWNERS`): typer, rich and uvicorn
   in ``cli`` only, httpx and brotli in ``portal``, jinja2 in ``dashboard``, filelock in
   ``foundation``, asn1crypto and pkcs11 in ``signing``; the exceptions are named, with their reason.
6. **Core code never prints and never exits** (STYLE.md principle 1): no ``print(`` and no
   ``sys.exit(`` outside ``cli``; results are returned, errors raised as ``SohsError``.

The checker is a pair of plain functions (:func:`module_graph`, :func:`problems`); the tests at the end
prove it fails on a violation of each rule, in a package tree written to a temporary folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = "sohs_cli"
RANKS: dict[str, int] = {
    PKG: 0,
    "foundation": 1,
    "documents": 2,
    "validation": 3,
    "signing": 4,
    "portal": 5,
    "submission": 6,
    "mockportal": 7,
    "dashboard": 7,
    "cli": 8,
    "__main__": 9,
}


#: library -> the packages that may import it
OWNERS: dict[str, set[str]] = {
    "typer": {"cli"}, "rich": {"cli"}, "uvicorn": {"cli"},
    "httpx": {"portal"}, "brotli": {"portal"},
    "jinja2": {"dashboard"},
    "pybase64": {"documents"},
    "filelock": {"foundation"},
    "asn1crypto": {"signing"}, "pkcs11": {"signing"},
}
#: (module, library): why this module may import a library its package does not own
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("sohs_cli.cli.demo", "httpx"): "httpx.ASGITransport puts the simulated portal in the demo's process",
}


def module_names(src: Path) -> dict[str, Path]:
    """``sohs_cli.x.y`` -> its file, for every module under ``src / sohs_cli``."""
    out = {}
    for path in sorted((src / PKG).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The sohs_cli modules ``name`` imports, wherever the statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import mod` imports the module pkg.mod
                found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
    return {m for m in found if (m == PKG or m.startswith(PKG + ".")) and m != name}


def module_graph(src: Path) -> dict[str, set[str]]:
    known = module_names(src)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def libraries_of(path: Path) -> set[str]:
    """Top-level names of what a module imports that is not sohs_cli (wherever the statement is)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.partition(".")[0])
    return found - {PKG}


def prints_or_exits(path: Path) -> list[int]:
    """Lines that call ``print(...)`` or ``sys.exit(...)``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "print") or (
                    isinstance(f, ast.Attribute) and f.attr == "exit" and isinstance(f.value, ast.Name)
                    and f.value.id == "sys"):
                lines.append(node.lineno)
    return sorted(lines)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PKG


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start] & graph.keys())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt] & graph.keys()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def problems(src: Path) -> list[str]:
    """Every broken rule of the module docstring, one line each."""
    graph = module_graph(src)
    known = module_names(src)
    out = []
    for module in sorted(graph):
        pkg = package_of(module)
        if pkg not in RANKS:
            out.append(f"{module}: package {pkg!r} has no rank (rule 4): add it to RANKS and CONTRIBUTING.md")
            continue
        if known[module].name == "__init__.py" and graph[module]:
            out.append(f"{module}/__init__.py imports {', '.join(sorted(graph[module]))} (rule 3)")
        for dep in sorted(graph[module]):
            other = package_of(dep)
            if other == pkg or other not in RANKS:
                continue
            if RANKS[other] >= RANKS[pkg]:
                out.append(f"{module} ({pkg}, rank {RANKS[pkg]}) imports {dep} ({other}, rank {RANKS[other]}) "
                           "(rule 1)")
    out.extend(f"import circle: {' <-> '.join(c)} (rule 2)" for c in circles(graph))
    for module, path in sorted(known.items()):
        pkg = package_of(module)
        for lib in sorted(libraries_of(path) & OWNERS.keys()):
            if pkg not in OWNERS[lib] and (module, lib) not in EXCEPTIONS:
                out.append(f"{module} imports {lib}, which only {', '.join(sorted(OWNERS[lib]))} may (rule 5)")
        if pkg != "cli" and module != f"{PKG}.__main__":
            out.extend(f"{path.relative_to(src)}:{line}: print() or sys.exit() outside cli (rule 6)"
                       for line in prints_or_exits(path))
    return out


def test_sohs_cli_keeps_its_layers() -> None:
    assert problems(ROOT) == []


def test_every_package_of_sohs_cli_says_what_it_owns_and_may_import() -> None:
    for pkg in RANKS:
        if pkg in (PKG, "__main__"):
            continue
        init = ROOT / PKG / pkg / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{init}: say what the package may import"


# ------------------------------------------------------------------ the checker itself can fail

def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"sohs_cli/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SOUND = {
    "sohs_cli/foundation/__init__.py": '"""Foundation."""\n',
    "sohs_cli/foundation/errors.py": "from __future__ import annotations\n",
    "sohs_cli/signing/__init__.py": '"""Signing."""\n',
    "sohs_cli/signing/certs.py": "from sohs_cli.foundation.errors import X\nfrom sohs_cli import __version__\n",
    "sohs_cli/cli/__init__.py": "",
    "sohs_cli/cli/app.py": "import typer\nfrom sohs_cli.signing import certs\nfrom . import other\nprint('ok')\n",
    "sohs_cli/cli/other.py": "",
}


def test_a_sound_tree_passes(tmp_path: Path) -> None:
    assert problems(write_tree(tmp_path, SOUND)) == []
    graph = module_graph(tmp_path)
    assert graph["sohs_cli.cli.app"] == {"sohs_cli.signing.certs", "sohs_cli.cli.other"}
    assert graph["sohs_cli.signing.certs"] == {"sohs_cli.foundation.errors", "sohs_cli"}


@pytest.mark.parametrize(("files", "expected"), [
    # a lower layer importing a higher one, even lazily inside a function
    ({"sohs_cli/foundation/errors.py": "def f():\n    from sohs_cli.cli.app import main\n"},
     "sohs_cli.foundation.errors (foundation, rank 1) imports sohs_cli.cli.app (cli, rank 8) (rule 1)"),
    # ... or only for the type checker
    ({"sohs_cli/signing/certs.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from sohs_cli.cli import other\n"},
     "sohs_cli.signing.certs (signing, rank 4) imports sohs_cli.cli.other (cli, rank 8) (rule 1)"),
    # peers of one rank
    ({"sohs_cli/dashboard/__init__.py": "", "sohs_cli/mockportal/__init__.py": "",
      "sohs_cli/mockportal/app.py": "", "sohs_cli/dashboard/web.py": "import sohs_cli.mockportal.app\n"},
     "sohs_cli.dashboard.web (dashboard, rank 7) imports sohs_cli.mockportal.app (mockportal, rank 7) (rule 1)"),
    # a circle inside one package, through a relative import
    ({"sohs_cli/cli/other.py": "from .app import x\n"},
     "import circle: sohs_cli.cli.app <-> sohs_cli.cli.other (rule 2)"),
    # an eager import in a package's __init__
    ({"sohs_cli/signing/__init__.py": "from sohs_cli.signing.certs import *\n"},
     "sohs_cli.signing/__init__.py imports sohs_cli.signing.certs (rule 3)"),
    # a library outside the package that owns it
    ({"sohs_cli/signing/certs.py": "def f():\n    import httpx.Client\n"},
     "sohs_cli.signing.certs imports httpx, which only portal may (rule 5)"),
    # core code that prints or exits
    ({"sohs_cli/signing/certs.py": "import sys\n\ndef f():\n    sys.exit(3)\n"},
     "sohs_cli/signing/certs.py:4: print() or sys.exit() outside cli (rule 6)"),
    ({"sohs_cli/signing/certs.py": "print('signed')\n"},
     "sohs_cli/signing/certs.py:1: print() or sys.exit() outside cli (rule 6)"),
    # a module outside the ranked packages
    ({"sohs_cli/helpers.py": ""}, "sohs_cli.helpers: package 'helpers' has no rank (rule 4): add it to RANKS "
                                  "and CONTRIBUTING.md"),
])
def test_the_checker_fails_on_each_broken_rule(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert expected in problems(write_tree(tmp_path, {**SOUND, **files}))


def test_circles_finds_a_long_circle_and_only_it() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
