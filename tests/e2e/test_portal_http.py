"""`sohs portal serve` for real: uvicorn on a free loopback port, driven by curl and httpx."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from sohs_cli.mockportal.accounts import md5_upper
from sohs_cli.signing.sign import FileSigner
from sohs_cli.signing.testpki import TestPki
from tests.conftest import require_tool
from tests.portal_helpers import FACILITY, PASSWORD, USER, envelope, served, signed


def curl(url: str, *args: str) -> dict[str, object]:
    done = subprocess.run([require_tool("curl"), "-sS", "-X", "POST", url, *args], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_requests_built_by_hand_with_curl(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    """Form-encoded exactly as CV 1245 describes it; each broken rule gets its code."""
    with served(tmp_path, pki) as base:
        token = curl(f"{base}/api/token/take", "-d", f"username={USER}", "-d", f"password={md5_upper(PASSWORD)}")
        assert token["maKetQua"] == "200"
        key = token["APIKey"]
        assert isinstance(key, dict)

        def send(data: bytes, facility: str = FACILITY, access: str = str(key["access_token"])) -> dict[str, object]:
            b64 = tmp_path / "b64.txt"
            b64.write_text(base64.b64encode(data).decode())
            return curl(f"{base}/api/qd130/guiHoSoXmlQD3176", "-H", f"accessToken: {access}",
                        "-H", f"tokenId: {key['id_token']}", "-H", f"passwordHash: {md5_upper(PASSWORD)}",
                        "--data-urlencode", f"username={USER}", "--data-urlencode", "loaiHoSo=130",
                        "--data-urlencode", f"maTinh={facility[:2]}", "--data-urlencode", f"maCSKCB={facility}",
                        "--data-urlencode", f"fileHSBase64@{b64}")

        good = signed(clinic, "LK202511000301")
        accepted = send(good)
        assert accepted["maKetQua"] == "200" and len(str(accepted["thoiGianTiepNhan"])) == 14
        assert send(envelope("LK202511000302"))["maKetQua"] == "123"
        assert send(good.replace(b"<NGAYLAP>", b"<NGAYLAP>1"))["maKetQua"] == "125"
        assert send(good, facility="79002")["maKetQua"] == "402"
        assert send(good, access="forged")["maKetQua"] == "401"
        subs = httpx.get(f"{base}/_mock/submissions").json()
        assert [s["maGiaoDich"] for s in subs] == [accepted["maGiaoDich"]]
        assert subs[0]["result"][0]["state"] in ("pending", "accepted")


def test_dropped_reply_restart_and_page(tmp_path: Path, pki: TestPki, clinic: FileSigner) -> None:
    data = signed(clinic, "LK202511000303")
    with served(tmp_path, pki, "--drop-after-accept", "1", "--seed", "3") as base:
        token = httpx.post(f"{base}/api/token/take", data={"username": USER, "password": md5_upper(PASSWORD)}).json()
        key = token["APIKey"]
        headers = {"accessToken": key["access_token"], "tokenId": key["id_token"], "passwordHash": md5_upper(PASSWORD)}
        form = {"username": USER, "loaiHoSo": "130", "maTinh": "79", "maCSKCB": FACILITY,
                "fileHSBase64": base64.b64encode(data).decode()}
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{base}/api/qd130/guiHoSoXmlQD3176", data=form, headers=headers, timeout=10)
        stored = httpx.get(f"{base}/_mock/submissions").json()
        assert len(stored) == 1 and stored[0]["ma_lk"] == ["LK202511000303"]
    with served(tmp_path, pki) as base:  # restarted on the same --data-dir: nothing lost
        again = httpx.get(f"{base}/_mock/submissions").json()
        assert [s["maGiaoDich"] for s in again] == [stored[0]["maGiaoDich"]]
        assert again[0]["result"][0]["state"] == "accepted"
        page = httpx.get(f"{base}/_mock/").text
        assert "Danh sách tiếp nhận" in page and stored[0]["maGiaoDich"] in page


def test_a_hang_outlasts_the_client_timeout(tmp_path: Path, pki: TestPki) -> None:
    with served(tmp_path, pki, "--timeout-rate", "1", "--hang-seconds", "30") as base:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{base}/api/token/take", data={"username": USER}, timeout=0.5)
        assert httpx.get(f"{base}/_mock/health", timeout=5).status_code == 200
