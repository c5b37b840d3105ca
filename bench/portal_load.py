"""Load on `sohs portal serve`: N concurrent clients for a fixed time, over real HTTP on loopback.

Run: python bench/portal_load.py [--clients 200] [--seconds 60] [--fail-rate 0.02] [--documents 2000].
Every client logs in, then submits signed envelopes in a loop until the time is up. At the end the
script checks that nothing answered 5xx beyond the injected 503s and that every accepted receipt is
in /_mock/submissions (nothing lost), prints throughput and latency percentiles, and records the
table in docs/performance.md. Bounded in time and count; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._portal import serve  # noqa: E402
from bench._report import record  # noqa: E402
from sohs_cli.documents import samples  # noqa: E402
from sohs_cli.documents.kinds import pack  # noqa: E402
from sohs_cli.foundation.credentials import SecretSource  # noqa: E402
from sohs_cli.mockportal.accounts import md5_upper  # noqa: E402
from sohs_cli.signing.certs import load_key_material  # noqa: E402
from sohs_cli.signing.sign import FileSigner, sign_document  # noqa: E402
from sohs_cli.signing.testpki import make_test_pki  # noqa: E402

USER, PASSWORD, FACILITY = "79001_BV", "bench-password", "79001"


def make_documents(count: int, pki_dir: str) -> list[bytes]:
    """Form bodies, URL-encoded once: encoding 13 KB of base64 per request would make the load
    generator, not the portal, the thing measured."""
    pki = make_test_pki(pki_dir, password=b"bench")
    signer = FileSigner(load_key_material(p12=pki.clinic_p12, password=SecretSource("p", "UNSET", pki.password_file)))
    out = []
    for i in range(count):
        lk = f"LK2025{i:08d}"
        base = samples.xml1_values("3176", lk, ma_loai_rv="2")
        env = pack([("x1", samples.xml1("3176", lk, ma_loai_rv="2")), ("x13", samples.xml13("3176", lk, base))],
                   facility=FACILITY)
        form = {"username": USER, "loaiHoSo": "130", "maTinh": "79", "maCSKCB": FACILITY,
                "fileHSBase64": base64.b64encode(sign_document(env.data, signer)).decode()}
        out.append(urllib.parse.urlencode(form).encode("ascii"))
    Path(pki_dir, "accounts.toml").write_text(
        f'[[account]]\nusername = "{USER}"\npassword = "{PASSWORD}"\nfacility = "{FACILITY}"\n'
        f'certificates = ["clinic.pem"]\n', encoding="utf-8")
    return out


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams, for the load only.

    httpx's async pool costs more CPU per request than the portal itself once a process holds
    hundreds of connections, so with it the bench measured the client. This writes pre-built
    requests and reads Content-Length responses, which is all the portal sends.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return status, await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.writer.close()
            self.writer = None
            raise


def request_head(port: int, headers: dict[str, str]) -> bytes:
    """Everything of a submission request but its Content-Length and body (the same for one client)."""
    lines = ["POST /api/qd130/guiHoSoXmlQD3176 HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: application/x-www-form-urlencoded"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


async def client_loop(login: httpx.AsyncClient, port: int, docs: list[bytes], start: int, deadline: float,
                      stats: dict[str, list[object]]) -> None:
    r = await login.post("/api/token/take", data={"username": USER, "password": md5_upper(PASSWORD)})
    while r.status_code != 200 and time.monotonic() < deadline:  # injected faults hit logins too
        await asyncio.sleep(0.05)
        r = await login.post("/api/token/take", data={"username": USER, "password": md5_upper(PASSWORD)})
    if r.status_code != 200:
        return
    key = r.json()["APIKey"]
    headers = {"accessToken": key["access_token"], "tokenId": key["id_token"], "passwordHash": md5_upper(PASSWORD)}
    head = request_head(port, headers)
    conn = Connection("127.0.0.1", port)
    i = start
    while time.monotonic() < deadline:
        body = docs[i % len(docs)]
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        i += 1
        t0 = time.perf_counter()
        try:
            status, content = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            stats["transport"].append(1)
            continue
        stats["latency"].append(time.perf_counter() - t0)
        if status >= 500:
            stats["injected" if b"injected" in content else "real5xx"].append(status)
            continue
        answer = json.loads(content)
        stats["codes"].append(answer.get("maKetQua"))
        if answer.get("maKetQua") == "200":
            stats["receipts"].append(answer["maGiaoDich"])
    if conn.writer is not None:
        conn.writer.close()


async def run_load(port: int, docs: list[bytes], clients: int, seconds: float) -> dict[str, list[object]]:
    stats: dict[str, list[object]] = {k: [] for k in ("latency", "codes", "receipts", "injected", "real5xx",
                                                      "transport")}
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as login:  # one, shared
        await asyncio.gather(*(client_loop(login, port, docs, n * 7, deadline, stats) for n in range(clients)))
    return stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fail-rate", type=float, default=0.02)
    ap.add_argument("--documents", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = make_documents(args.documents, tmp)
        faults = ("--fail-rate", str(args.fail_rate), "--seed", "1")
        with serve(f"{tmp}/data", f"{tmp}/accounts.toml", *faults) as (base, port):
            t0 = time.perf_counter()
            stats = asyncio.run(run_load(port, docs, args.clients, args.seconds))
            elapsed = time.perf_counter() - t0
            stored = {s["maGiaoDich"] for s in httpx.get(f"{base}/_mock/submissions", timeout=120).json()}
    latencies = sorted(float(x) for x in stats["latency"])  # type: ignore[arg-type]
    receipts = {str(r) for r in stats["receipts"]}
    missing = receipts - stored

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3 if latencies else 0.0

    requests = len(latencies)
    lines = [f"{args.clients} concurrent clients for {args.seconds:.0f} s, `--fail-rate {args.fail_rate}` "
             f"(injected 503), {args.documents:,} distinct signed envelopes ({len(docs[0]):,}-byte requests), "
             "client and server on the same 2 cores.", "",
             "| measure | value |", "|---|---:|",
             f"| submissions answered | {requests:,} |",
             f"| throughput | {requests / elapsed:,.0f} requests/s |",
             f"| latency p50 / p99 | {pct(0.50):.0f} ms / {pct(0.99):.0f} ms |",
             f"| injected 503 | {len(stats['injected']):,} |",
             f"| other 5xx (must be 0) | {len(stats['real5xx'])} |",
             f"| transport errors | {len(stats['transport'])} |",
             f"| distinct receipts (maGiaoDich) | {len(receipts):,} |",
             f"| receipts missing from /_mock/submissions (must be 0) | {len(missing)} |"]
    text = "\n".join(lines)
    print(text)
    record("portal-load", text)
    if missing or stats["real5xx"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
