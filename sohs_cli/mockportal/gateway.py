"""The BHXH gateway endpoints, as CV 3190 and CV 1245 describe them (DOMAIN.md §5.2–§5.4).

Errors come in the body with HTTP 200, as the real gateway answers. Checks on receipt, in order:
token (401), facility of the account (402), parameters, base64 and XML (205), a signature present
(123), the signature valid, by a certificate registered for the facility, bytes unchanged (125),
the document kind and standard of the endpoint and the file's MACSKCB (124). Codes 124 and 402 for
those cases, the lookup endpoint and the same-bytes rule are the simulator's choices (INFERENCE, see
the README); ``--realistic`` drops the lookup and the same-bytes rule (DOMAIN.md §5.5: the guides
define no status API; a resend is a correction that replaces the earlier file by MA_LK).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

from sohs_cli.documents.kinds import episode_keys, hoso_roots, text_of
from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.mockportal.accounts import Account
from sohs_cli.mockportal.asgi import Request, Response, json_response
from sohs_cli.mockportal.context import PortalContext as Portal  # what a handler may use of the portal
from sohs_cli.mockportal.store import Submission
from sohs_cli.signing.verification import verify_bytes

if TYPE_CHECKING:
    from lxml import etree

VN = dt.timezone(dt.timedelta(hours=7), "ICT")

#: path -> (loaiHoSo, standard, root element)
ENDPOINTS = {
    "/api/qd130/checkInKcbQd4750": ("0", "4750", "CHI_TIEU_TRANG_THAI_KCB"),
    "/api/qd130/checkInKcbQd3176": ("0", "3176", "CHI_TIEU_TRANG_THAI_KCB"),
    "/api/qd130/guiHoSoXmlQD4750": ("130", "4750", "GIAMDINHHS"),
    "/api/qd130/guiHoSoXmlQD3176": ("130", "3176", "GIAMDINHHS"),
}
LOOKUP = "/api/kcb/tra-cuu-trang-thai"


class DropConnection(Exception):
    """The file is stored; the connection is to be closed before the reply (fault injection)."""


def stamp(now: dt.datetime) -> str:
    return now.astimezone(VN).strftime("%Y%m%d%H%M%S")


def answer(code: str, message: str, ma_giao_dich: str = "", received: str = "") -> Response:
    return json_response({"maKetQua": code, "maGiaoDich": ma_giao_dich, "thoiGianTiepNhan": received,
                          "thongDiep": message})


def token_take(portal: Portal, req: Request) -> Response:
    form = req.form()
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return json_response({"maKetQua": "205", "APIKey": None, "thongDiep": "Thiếu username hoặc password"})
    account = portal.accounts.get(username)
    if account is None or not hmac.compare_digest(password.upper(), account.password_md5):
        return json_response({"maKetQua": "401", "APIKey": None,
                              "thongDiep": "Tài khoản không tồn tại hoặc sai mật khẩu"})
    if account.locked:
        return json_response({"maKetQua": "403", "APIKey": None, "thongDiep": "Tài khoản đã bị khóa"})
    now = portal.now()
    access, id_token = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + dt.timedelta(seconds=portal.config.token_ttl)
    portal.store.add_token(access, id_token, username, "bhxh", expires.timestamp())
    return json_response({"maKetQua": "200", "APIKey": {
        "access_token": access, "id_token": id_token, "token_type": "Bearer", "username": username,
        "expires_in": expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}})


def authenticate(portal: Portal, req: Request, username: str) -> Account | None:
    """The account behind the headers accessToken / tokenId / passwordHash, or None (401)."""
    row = portal.store.token(req.headers.get("accesstoken", ""), "bhxh")
    if row is None or row["expires_ts"] <= portal.now().timestamp():
        return None
    account = portal.accounts.get(row["username"])
    if account is None or row["username"] != username:
        return None
    if not hmac.compare_digest(row["id_token"], req.headers.get("tokenid", "")):
        return None
    if not hmac.compare_digest(req.headers.get("passwordhash", "").upper(), account.password_md5):
        return None
    return account


def _endpoint_mismatch(root: etree._Element, standard: str, expected_root: str, facility: str,
                       inner: dict[int, dict[str, etree._Element]]) -> str:
    if root.tag != expected_root:
        return f"Sai loại hồ sơ: cổng này nhận {expected_root}, tệp là {root.tag}"
    if expected_root == "GIAMDINHHS" and text_of(root, "THONGTINDONVI/MACSKCB") != facility:
        return f"MACSKCB trong tệp ({text_of(root, 'THONGTINDONVI/MACSKCB')}) khác maCSKCB ({facility})"
    from sohs_cli.validation.engine import ValidateOptions, choose_standard

    for index, roots in inner.items():
        chosen, why = choose_standard(ValidateOptions(), roots)
        if roots and chosen != standard and not why.startswith("no NGAY_RA"):
            return f"HOSO {index} theo QĐ {chosen} ({why}) gửi tới cổng QĐ {standard}"
    return ""


def submit(portal: Portal, req: Request) -> Response:
    loai, standard, expected_root = ENDPOINTS[req.path]
    form = req.form()
    account = authenticate(portal, req, form.get("username", ""))
    if account is None:
        return answer("401", "Token không hợp lệ hoặc đã hết hạn, hoặc sai tài khoản")
    if form.get("maCSKCB") != account.facility or form.get("maTinh", account.province) != account.province:
        return answer("402", f"Mã cơ sở KCB không đúng với tài khoản {account.username}")
    if form.get("loaiHoSo") != loai:
        return answer("205", f"Lỗi sai định dạng tham số: loaiHoSo phải là {loai}")
    raw = form.get("fileHSBase64", "")
    try:
        data = base64.b64decode(raw, validate=True) if raw else b""
    except (binascii.Error, ValueError):
        return answer("205", "fileHSBase64 không hợp lệ (base64 sai; ký tự + phải được mã hóa %2B)")
    if not data:
        return answer("205", "Thiếu fileHSBase64")
    limits = ParseLimits(max_bytes=portal.config.max_body)
    try:
        root = parse_bytes(data, source="fileHSBase64", limits=limits)
    except InputError as exc:
        return answer("205", f"Lỗi nội dung file XML: {exc.message}")
    report = verify_bytes(data, "fileHSBase64", trust=account.trust(), limits=limits)
    slot = report.signatures[0] if report.signatures else None
    if slot is None or slot.code == "not-signed":
        return answer("123", "File chưa được ký số")
    if slot.code == "untrusted":
        return answer("125", "Chứng thư số chưa được đăng ký cho cơ sở KCB (Danh mục chứng thư số)")
    if not report.valid or slot.signer is None:
        return answer("125", f"Ký sai, file gốc có thể đã bị chỉnh sửa ({slot.message_vi})")
    inner = hoso_roots(root, limits) if root.tag in ("GIAMDINHHS", "KHAMSUCKHOE") else {}
    ma_lks = episode_keys(root, inner)
    problem = _endpoint_mismatch(root, standard, expected_root, account.facility, inner)
    if problem:
        return answer("124", f"Lỗi nội dung file XML: {problem}")
    sha = hashlib.sha256(data).hexdigest()
    # the same-bytes rule is the simulator's (a resend of identical bytes gets the first receipt);
    # --realistic has none: a resend is a new receipt, and the later replaces the earlier by MA_LK
    first = None if portal.config.realistic else portal.store.same_bytes("bhxh", account.facility, sha)
    if first is not None:
        return json_response(first.reply | {"thongDiep": "Tệp đã được tiếp nhận trước đó (cùng nội dung)"})
    return _accept(portal, account, req.path, data, sha, ma_lks)


def _accept(portal: Portal, account: Account, endpoint: str, data: bytes, sha: str, ma_lks: list[str],
            service: str = "bhxh", msg_id: str | None = None) -> Response:
    now = portal.now()
    received = stamp(now)
    number = portal.store.next_number()
    ma_giao_dich = f"{account.facility}{received}{number:06d}"
    reply = {"maKetQua": "200", "maGiaoDich": ma_giao_dich, "thoiGianTiepNhan": received,
             "thongDiep": "Tiếp nhận thành công"}
    sub = Submission(ma_giao_dich, service, endpoint, account.username, account.facility, sha, len(data),
                     received, now.timestamp() + portal.config.processing_delay, "received", 1, reply)
    portal.store.add_submission(sub, data, ma_lks, msg_id)
    if portal.faults.draw(portal.faults.faults.drop_after_accept):
        raise DropConnection(ma_giao_dich)
    return json_response(reply)


def not_found_page() -> Response:
    """What a web server in front of a real gateway answers for a path it does not have."""
    return Response(404, b"<!DOCTYPE html><html><head><title>404 - Not Found</title></head><body><h1>404 - "
                         b"Not Found</h1></body></html>", "text/html; charset=utf-8")


def lookup(portal: Portal, req: Request) -> Response:
    """Simulator extension, shaped like the provincial hubs' status lookup: by maGiaoDich or maLk."""
    form = req.form()
    account = authenticate(portal, req, form.get("username", ""))
    if account is None:
        return json_response({"maKetQua": "401", "thongDiep": "Token không hợp lệ hoặc đã hết hạn", "ketQua": []})
    # what this lookup asks for was processed just before, in the portal's worker thread (app._fresh)
    wanted = form.get("maGiaoDich", "")
    ids = [wanted] if wanted else portal.store.by_ma_lk(account.facility, form.get("maLk", ""))
    results: list[dict[str, Any]] = []
    for ma_giao_dich in ids:
        sub = portal.store.submission(ma_giao_dich)
        if sub is None or sub.facility != account.facility or sub.service != "bhxh":
            continue  # the gateway knows its own receipts only, not the checkup hub's
        for row in portal.store.hosos(ma_giao_dich):
            if form.get("maLk") and row["ma_lk"] != form["maLk"]:
                continue
            results.append({"maGiaoDich": ma_giao_dich, "thoiGianTiepNhan": sub.received_at, "maLk": row["ma_lk"],
                            "sha256": sub.sha256,
                            "trangThai": STATES[row["state"]], "thoiGianXuLy": row["processed_at"] or "",
                            "thayTheBoi": row["replaced_by"] or "", "dsLoi": _errors(row["errors"])})
    if not results:
        return json_response({"maKetQua": "404", "thongDiep": "Không tìm thấy hồ sơ", "ketQua": []})
    return json_response({"maKetQua": "200", "thongDiep": "", "ketQua": results})


STATES = {"pending": "CHO_XU_LY", "accepted": "HOP_LE", "rejected": "TU_CHOI"}


def _errors(text: str) -> list[Any]:
    value: list[Any] = json.loads(text)
    return value
