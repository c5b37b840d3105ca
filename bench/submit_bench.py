"""Client cost of `sohs submit`: 10,000 signed envelopes to `sohs portal serve` on loopback.

Run: python bench/submit_bench.py [--count 10000] [--concurrency 8] [--rounds 3]. Measures wall time,
CPU time of the client process per document and its peak memory (at a fifth of the count too, to
show memory stays flat), side by side with a baseline: bare httpx posting the same files with the
same concurrency, with no checks and no ledger. Records the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._portal import serve  # noqa: E402
from bench._report import record  # noqa: E402
from bench.portal_load import FACILITY, PASSWORD, USER  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.documents.kinds import pack  # noqa: E402
from sohs_cli.foundation.credentials import SecretSource  # noqa: E402
from sohs_cli.signing.certs import load_key_material  # noqa: E402
from sohs_cli.signing.sign import FileSigner, sign_document  # noqa: E402
from sohs_cli.signing.testpki import make_test_pki  # noqa: E402

BASELINE = r'''
import asyncio, base64, hashlib, os, sys, httpx
folder, base, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
md5 = hashlib.md5(os.environ["SOHS_PORTAL_PASSWORD"].encode()).hexdigest().upper()
async def main():
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        key = (await c.post("/api/token/take", data={"username": "79001_BV", "password": md5})).json()["APIKey"]
        h = {"accessToken": key["access_token"], "tokenId": key["id_token"], "passwordHash": md5}
        gate = asyncio.Semaphore(conc)
        async def one(name):
            async with gate:
                data = open(os.path.join(folder, name), "rb").read()
                form = {"username": "79001_BV", "loaiHoSo": "130", "maTinh": "79", "maCSKCB": "79001",
                        "fileHSBase64": base64.b64encode(data).decode()}
                r = await c.post("/api/qd130/guiHoSoXmlQD3176", data=form, headers=h)
                assert r.json()["maKetQua"] == "200"
        await asyncio.gather(*(one(n) for n in sorted(os.listdir(folder))))
asyncio.run(main())
'''


def child_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[:4]} failed")
    del before
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="print only; do not write docs/performance.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_test_pki(f"{tmp}/pki", password=b"bench")
        signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "U", pki.password_file)))
        small = max(1, args.count // 5)
        for folder, count in (("big", args.count), ("small", small)):
            Path(tmp, folder).mkdir()
            for i in range(count):
                lk = f"LK{folder[0].upper()}{i:08d}"
                base = samples.xml1_values("3176", lk, ma_loai_rv="2")
                env_ = pack([("a", samples.xml1("3176", lk, ma_loai_rv="2")), ("b", samples.xml13("3176", lk, base))],
                            facility=FACILITY)
                Path(tmp, folder, f"h{i:06d}.xml").write_bytes(sign_document(env_.data, signer))
        Path(tmp, "accounts.toml").write_text(
            f'[[account]]\nusername = "{USER}"\npassword = "{PASSWORD}"\nfacility = "{FACILITY}"\n'
            f'certificates = ["pki/clinic.pem"]\n', encoding="utf-8")
        clients = (("bare httpx POST (baseline)", "big", args.count,
                    lambda base, f: [sys.executable, "-c", BASELINE, f, base, str(args.concurrency)]),
                   ("sohs submit", "big", args.count,
                    lambda base, f: [sys.executable, "-m", "sohs_cli", "submit", f, "--concurrency",
                                     str(args.concurrency)]),
                   (f"sohs submit ({small:,} documents: memory)", "small", small,
                    lambda base, f: [sys.executable, "-m", "sohs_cli", "submit", f, "--concurrency",
                                     str(args.concurrency)]))
        runs: dict[str, list[tuple[float, float, int]]] = {}
        for r in range(args.rounds):  # interleaved: each round's ratio is taken in the same machine state
            for label, folder, count, cmd_of in clients:
                key = f"{r}-{label[:4]}-{folder}-{count}"
                with serve(f"{tmp}/data-{key}", f"{tmp}/accounts.toml", "--processing-delay", "3600") as (base, _):
                    env = os.environ | {"SOHS_HOME": f"{tmp}/home-{key}", "SOHS_PORTAL_URL": base,
                                        "SOHS_PORTAL_USERNAME": USER, "SOHS_PORTAL_PASSWORD": PASSWORD,
                                        "SOHS_VERIFY_CERTIFICATES": pki.clinic_cert}  # the trust source
                    wall, cpu, rss = child_run(cmd_of(base, f"{tmp}/{folder}"), env)
                runs.setdefault(label, []).append((wall / count, cpu / count, rss))
    base = runs[clients[0][0]]
    lines = [f"{args.count:,} signed GIAMDINHHS envelopes to `sohs portal serve` on loopback, `--concurrency "
             f"{args.concurrency}`, client and server on the same 2 cores; {args.rounds} interleaved rounds, "
             "ratios taken within each round (median, then the range over the rounds).", "",
             "| client | documents | wall per document | ratio to baseline wall | client CPU per document "
             "| ratio to baseline CPU | peak memory |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, _folder, count, _cmd in clients:
        got = runs[label]
        walls = [g[0] / b[0] for g, b in zip(got, base, strict=True)]
        cpus = [g[1] / b[1] for g, b in zip(got, base, strict=True)]
        lines.append(f"| {label} | {count:,} | {statistics.median(g[0] for g in got) * 1e3:.2f} ms | "
                     f"{_spread(walls)} | {statistics.median(g[1] for g in got) * 1e3:.2f} ms | {_spread(cpus)} | "
                     f"{max(g[2] for g in got) / 1024:.0f} MB |")
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record("submit", text)


def _spread(ratios: list[float]) -> str:
    med = statistics.median(ratios)
    return f"{med:.2f}× ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else f"{med:.2f}×"


if __name__ == "__main__":
    main()
