"""Peak memory of `sohs` on the worst hostile inputs at the default 50 MB file limit (issue 15).

Run: python bench/hostile_memory.py [--budget 300]. Each command runs in its own process on one case;
its peak resident memory (``ru_maxrss`` from ``wait4``) is printed as a table against the budget and
written to docs/performance.md. The baseline is the file itself (the ratio column): memory must be
bounded by the file size limit, not by what the file gets wrong. Not a test: nothing here asserts.

Commands: ``validate``, ``validate --format json``, ``sign --no-validate`` (signing itself, on input
validation would refuse), ``run`` (pack, validate and sign from an outbox; the portal is a closed port,
so nothing is sent: the send streams one document at a time), and the simulated portal's processing
of a received file (``sohs_cli.mockportal.processing.process``, what its worker thread runs).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._portal import free_port  # noqa: E402
from bench._report import record  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.documents.kinds import pack  # noqa: E402
from sohs_cli.foundation.xmlsafe import DEFAULT_MAX_BYTES, MAX_TAGS  # noqa: E402
from sohs_cli.signing.testpki import make_test_pki  # noqa: E402

LIMIT = DEFAULT_MAX_BYTES - 64 * 1024  # just under the 50 MB limit


def _xml1(ma_lk: str) -> bytes:
    return samples.xml1("3176", ma_lk, ma_loai_rv="2")


def _envelope_of(inner: bytes) -> bytes:
    """An envelope carrying ``inner`` as it is (pack would refuse to parse the hostile ones)."""
    shell = pack([("x1", _xml1("LK202511009991"))], facility="79001").data
    return re.sub(rb"<NOIDUNGFILE>[^<]*</NOIDUNGFILE>",
                  lambda m: b"<NOIDUNGFILE>" + base64.b64encode(inner) + b"</NOIDUNGFILE>", shell, count=1)


def cases() -> dict[str, bytes]:
    xml1 = _xml1("LK202511009990")
    end = xml1.index(b"</TONG_HOP>")
    unknown = xml1[:end] + b"<X/>" * (MAX_TAGS - 200) + xml1[end:]
    # one inner table as large as a 50 MB envelope can carry (base64 is 4/3): a 37 MB value
    unit = "Nguyễn Thị Hồng Nhung ".encode()
    text = unit * ((LIMIT * 3 // 4 - 4096 - len(xml1)) // len(unit))
    long_value = xml1.replace(b"<HO_TEN>", b"<HO_TEN>" + text, 1)
    bad = xml1.replace(b"GD4797920000001", b"GD479792000001")
    one = base64.b64encode(bad).decode()
    hoso = f"<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>{one}</NOIDUNGFILE></FILEHOSO></HOSO>"
    count = LIMIT // len(hoso)
    many = re.sub(r"<HOSO>.*</HOSO>", hoso * count, _envelope_of(bad).decode()).replace(
        "<SOLUONGHOSO>1<", f"<SOLUONGHOSO>{count}<").encode()
    return {
        f"table, {MAX_TAGS // 1000}k unknown elements": unknown,
        "envelope, one 37 MB inner table": _envelope_of(long_value),
        f"envelope, {count:,} bad HOSO": many,
        "envelope, inner table of 1.5M tags": _envelope_of(unknown),
    }


#: a small process of its own starts each command: Linux counts the memory of the process that forks
#: into its child's peak (ru_maxrss survives exec), so it must not be this one
LAUNCH = ("import json, os, subprocess, sys\n"
          "p = subprocess.Popen(sys.argv[3:], cwd=sys.argv[2] or None, stdout=subprocess.DEVNULL, "
          "stderr=subprocess.DEVNULL)\n"
          "_, status, usage = os.wait4(p.pid, 0)\n"
          "scale = 1024 * 1024 if sys.platform == 'darwin' else 1024\n"
          "print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss // scale]))\n")


def peak(args: list[str], env: dict[str, str], cwd: str | None = None) -> tuple[int, int]:
    """(exit code, peak resident MB) of one process."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, "-", cwd or "", *args], env=env, check=True,
                          capture_output=True, text=True)
    code, mb = json.loads(done.stdout)
    return int(code), int(mb)


PROCESS = ("import sys; from sohs_cli.mockportal.processing import process; "
           "data = open(sys.argv[1], 'rb').read(); process('/api/qd130/guiHoSoXmlQD3176', data, [], 'bench')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=300, help="MB each command must stay under")
    parser.add_argument("--write", metavar="DIR", help=argparse.SUPPRESS)  # the child that makes the cases
    opts = parser.parse_args()
    if opts.write:
        os.makedirs(opts.write, exist_ok=True)
        for i, (name, data) in enumerate(cases().items()):
            Path(opts.write, f"{i}-{name}.xml").write_bytes(data)
        return
    with tempfile.TemporaryDirectory(prefix="sohs-hostile-") as tmp:
        work = Path(tmp)
        pki = make_test_pki(str(work / "pki"), password=b"bench-secret")
        env = dict(os.environ, SOHS_HOME=str(work / "home"), SOHS_LANG="en", SOHS_P12_PASSWORD="bench-secret")
        py = [sys.executable, "-m", "sohs_cli"]
        rows = []
        # the cases are made by a child process: Linux keeps a parent's peak memory as the floor of
        # every child's ru_maxrss, so this process must stay small
        subprocess.run([sys.executable, __file__, "--write", str(work / "cases")], check=True)
        for case in sorted((work / "cases").iterdir()):
            name, data = case.stem.split("-", 1)[1], case.read_bytes()
            path = work / "case.xml"
            path.write_bytes(data)
            clinic = work / "clinic"
            for folder in ("outbox", "sent", "rejected", "failed"):
                (clinic / folder).mkdir(parents=True, exist_ok=True)
            for old in (clinic / "outbox").iterdir():
                old.unlink()
            (clinic / "outbox" / "case.xml").write_bytes(data)
            (clinic / "sohs.toml").write_text(
                f'facility = "79001"\n[portal]\nurl = "http://127.0.0.1:{free_port()}"\nusername = "79001_BV"\n'
                f'attempts = 1\n[signing]\np12 = "{pki.clinic_p12}"\n[run]\nsettle_seconds = 0\n', encoding="utf-8")
            run_env = env | {"SOHS_PORTAL_PASSWORD": "x", "SOHS_HOME": str(work / "run-home")}
            commands = {
                "validate": ([*py, "validate", str(path), "--jobs", "1"], env, None),
                "validate --format json": ([*py, "validate", str(path), "-f", "json", "--jobs", "1"], env, None),
                "sign --no-validate": ([*py, "sign", str(path), "--no-validate", "--p12", pki.clinic_p12,
                                             "-o", str(work / "signed.xml")], env, None),
                "run": ([*py, "run"], run_env, str(clinic)),
                "portal processing": ([sys.executable, "-c", PROCESS, str(path)], env, None),
            }
            for what, (args, cmd_env, cwd) in commands.items():
                code, mb = peak(args, cmd_env, cwd)
                rows.append((name, len(data), what, code, mb))
                print(f"{name:42} {what:24} exit {code:3} {mb:5} MB", flush=True)
    lines = [f"Budget: {opts.budget} MB per command at the default 50 MB file limit (issue 15).", "",
             "| case | size | command | exit | peak MB | × file | within |", "|---|---:|---|---:|---:|---:|---|"]
    for name, size, what, code, mb in rows:
        lines.append(f"| {name} | {size / 1e6:.1f} MB | `{what}` | {code} | {mb} | {mb / (size / 1e6):.1f} | "
                     f"{'yes' if mb < opts.budget else '**no**'} |")
    table = "\n".join(lines)
    print("\n" + table)
    record("hostile_memory", table)


if __name__ == "__main__":
    main()
