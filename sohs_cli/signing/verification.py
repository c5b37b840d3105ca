"""Verifying signatures the way the portal does, and stricter: a whitelist, not a general XML-DSig.

Only the profile of :mod:`sohs_cli.signing.dsig` is accepted: one ``Reference`` with ``URI=""`` (the whole
document), the exact transforms of the slot, C14N 1.0, RSA-SHA256, SHA-256. Each signature must sit
in its slot (``CHUKYDONVI`` or the checkup ``CKS_*``), one per slot, and no ``Signature`` may appear
anywhere else. What is verified is the parsed document itself, never a node the signature points at,
so signature wrapping (moving the signed content aside and adding new content) cannot pass: the
digest covers the very tree a reader acts on.

A verdict is valid only when the signer is trusted (issue 15): every verification takes a
:class:`sohs_cli.signing.trust.Trust` (a CA bundle, pinned certificates, or none) and every result names it.
With none the result is "integrity only", which is valid only if the caller asked for integrity
only. The signer's certificate is held to the signer policy of ``sign``
(:func:`sohs_cli.signing.certs.signer_problem`) whatever the trust source.

Portal codes (DOMAIN.md §5.4): no signature -> 123; digest or signature does not verify -> 125.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hmac
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from lxml import etree

from sohs_cli.foundation.errors import InputError
from sohs_cli.foundation.i18n import _, both, in_language
from sohs_cli.foundation.xmlsafe import ParseLimits, parse_bytes
from sohs_cli.signing import checkupsig, dsig
from sohs_cli.signing.certs import CertInfo, describe, now, rsa_verify, signer_problem
from sohs_cli.signing.cms import CmsError
from sohs_cli.signing.trust import Trust

_DS = f"{{{dsig.DS_NS}}}"


@dataclass
class SlotResult:
    slot: str  # CHUKYDONVI (Chữ ký đơn vị) …
    role: str
    ok: bool
    code: str  # ok | not-signed | changed | bad-signature | profile | reference | duplicate | cert-* | untrusted
    #            | integrity-only
    message_en: str
    message_vi: str
    signer: CertInfo | None = None
    chain: str = "not checked"
    trust: str = ""  # the trust source, in words; "integrity only" when there is none
    chain_vi: str = field(default="chưa kiểm tra", repr=False)  # ``chain`` for a Vietnamese run (not in JSON)
    certificate: x509.Certificate | None = field(default=None, repr=False)  # the signer's, once verified

    def as_dict(self) -> dict[str, Any]:
        return {"slot": self.slot, "role": self.role, "valid": self.ok, "code": self.code,
                "message_en": self.message_en, "message_vi": self.message_vi,
                "signer": self.signer.as_dict() if self.signer else None, "chain": self.chain,
                "trust": self.trust}


@dataclass
class VerifyReport:
    path: str
    kind: str = ""
    signatures: list[SlotResult] = field(default_factory=list)
    error_code: str = ""
    error: str = ""

    @property
    def valid(self) -> bool:
        return not self.error and bool(self.signatures) and all(s.ok for s in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "valid": self.valid,
                "error": {"code": self.error_code, "message": self.error, "message_en": in_language("en", self.error),
                          "message_vi": in_language("vi", self.error)} if self.error else None,
                "signatures": [s.as_dict() for s in self.signatures]}


class _Fail(Exception):
    def __init__(self, code: str, en: str, vi: str) -> None:
        super().__init__(en)
        self.code, self.en, self.vi = code, en, vi


def _only(parent: etree._Element, name: str, what: str) -> etree._Element:
    found = parent.findall(_DS + name)
    if len(found) != 1:
        raise _Fail("profile", f"{what}: {len(found)} {name} elements, the profile has exactly one",
                    f"{what}: có {len(found)} thẻ {name}, chuẩn yêu cầu đúng một")
    return found[0]


def _algorithm(parent: etree._Element, name: str, expected: str) -> None:
    el = _only(parent, name, "SignedInfo" if name != "DigestMethod" else "Reference")
    got = el.get("Algorithm", "")
    if got != expected:
        raise _Fail("profile", f"{name} is {got or 'missing'}; the portal profile uses {expected}",
                    f"{name} là {got or 'trống'}; cổng yêu cầu {expected}")


def _b64(el: etree._Element, what: str) -> bytes:
    text = "".join((el.text or "").split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Fail("profile", f"{what} is not valid base64", f"{what} không phải base64 hợp lệ") from None


def _check_transforms(ref: etree._Element, slot: dsig.Slot) -> None:
    transforms = ref.find(_DS + "Transforms")
    got: list[tuple[str, str]] = []
    for t in transforms if transforms is not None else []:
        if not isinstance(t.tag, str):
            continue
        algorithm = t.get("Algorithm", "")
        xpath = ""
        if algorithm == dsig.XPATH2:
            paths = [c for c in t if c.tag == f"{{{dsig.DSIG2_NS}}}XPath"]
            if len(paths) != 1 or paths[0].get("Filter") != "subtract" or \
                    paths[0].nsmap.get("dsig") != dsig.DS_NS:
                raise _Fail("profile", "the XPath Filter 2.0 transform is not the checkup profile's subtract",
                            "phép biến đổi XPath Filter 2.0 không đúng chuẩn")
            xpath = (paths[0].text or "").strip()
        got.append((algorithm, xpath))
    expected = list(slot.transforms)
    accepted = [expected]
    if not slot.checkup:  # a trailing C14N 1.0 transform is what the default output C14N does anyway
        accepted.append([*expected, (dsig.C14N, "")])
    if got not in accepted:
        names = ", ".join(a.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for a, _ in got) or "none"
        raise _Fail("profile", f"transforms are [{names}]; the {slot.name} profile allows "
                    f"{'XPath Filter 2.0 subtract of the signatures' if slot.checkup else 'enveloped-signature'} only",
                    f"các phép biến đổi [{names}] không đúng chuẩn chữ ký")


def _certificates(sig: etree._Element) -> list[x509.Certificate]:
    key_info = sig.find(_DS + "KeyInfo")
    certs = []
    for el in key_info.iter(_DS + "X509Certificate") if key_info is not None else []:
        try:
            certs.append(x509.load_der_x509_certificate(_b64(el, "X509Certificate")))
        except ValueError:
            raise _Fail("profile", "an X509Certificate in KeyInfo cannot be read",
                        "không đọc được X509Certificate trong KeyInfo") from None
    if not certs:
        raise _Fail("profile", "KeyInfo holds no X509Certificate; the portal needs the signer's certificate",
                    "KeyInfo không có X509Certificate")
    return certs


def _verify_one(root: etree._Element, slot: dsig.Slot,
                sig: etree._Element) -> tuple[x509.Certificate, list[x509.Certificate]]:
    names = [c.tag for c in sig if isinstance(c.tag, str)]
    if names not in ([_DS + "SignedInfo", _DS + "SignatureValue", _DS + "KeyInfo"],):
        raise _Fail("profile", "Signature must hold SignedInfo, SignatureValue and KeyInfo, in that order, "
                    "and nothing else", "Signature phải gồm SignedInfo, SignatureValue, KeyInfo")
    # The XML-DSig schema gives Signature element-only content: text beside its parts is covered by
    # no digest (the enveloped transform removes the whole Signature) and is refused, as the portal
    # refuses a signature it cannot read (125).
    stray = next((t for t in [sig.text, *(c.tail for c in sig)] if t and not t.isspace()), None)
    if stray is not None:
        raise _Fail("bad-signature", f"text {stray.strip()[:20]!r} between the parts of Signature; it may hold only "
                    "SignedInfo, SignatureValue and KeyInfo (the portal answers 125)",
                    "có văn bản lạ giữa các thành phần của Signature (cổng trả mã 125)")
    info = sig[names.index(_DS + "SignedInfo")]
    _algorithm(info, "CanonicalizationMethod", dsig.C14N)
    _algorithm(info, "SignatureMethod", dsig.RSA_SHA256)
    refs = info.findall(_DS + "Reference")
    if len(refs) != 1:
        raise _Fail("reference", f"{len(refs)} Reference elements; exactly one must cover the whole document",
                    f"có {len(refs)} Reference; phải có đúng một, trỏ tới toàn bộ tài liệu")
    ref = refs[0]
    if ref.get("URI") != "":
        uri = ref.get("URI")
        raise _Fail("reference", f"Reference URI={uri!r} signs only part of the file; the portal requires "
                    'URI="" (the whole document)', f'Reference URI={uri!r} không ký toàn bộ tài liệu (cần URI="")')
    _check_transforms(ref, slot)
    _algorithm(ref, "DigestMethod", dsig.SHA256)
    expected_digest = _b64(_only(ref, "DigestValue", "Reference"), "DigestValue")
    value = _b64(_only(sig, "SignatureValue", "Signature"), "SignatureValue")
    certs = _certificates(sig)
    signed_info = dsig.c14n(info)
    signer = next((c for c in certs if rsa_verify(c, value, signed_info)), None)
    if signer is None:
        raise _Fail("bad-signature", "the signature value does not verify with the certificate in KeyInfo "
                    "(the portal answers 125)", "giá trị chữ ký không khớp chứng thư số (cổng trả mã 125)")
    # a copy of the parsed document (made in C, with what lies beside its element): the transforms
    # remove nodes, and the caller's tree is read on. Parsing the bytes again gave the same tree for
    # seven times the cost (issue 19: one parse per document)
    work = copy.deepcopy(root.getroottree()).getroot()
    own = dsig.slot_signatures(work, slot)[0]
    digest = dsig.document_digest(work, slot, own)
    if not hmac.compare_digest(digest, expected_digest):
        raise _Fail("changed", "the document was changed after signing (the portal answers 125)",
                    "tài liệu đã bị sửa sau khi ký (cổng trả mã 125)")
    return signer, [c for c in certs if c is not signer]


def verify_slot(data: bytes, slot: dsig.Slot, *, trust: Trust, source: str = "<input>",
                at: dt.datetime | None = None, limits: ParseLimits | None = None,
                root: etree._Element | None = None) -> SlotResult:
    """Verify the signature in one slot of ``data`` (parsed again unless ``root`` is given)."""
    root = parse_bytes(data, source=source, limits=limits) if root is None else root
    containers = root.findall(slot.path)
    sigs = dsig.slot_signatures(root, slot)
    result = SlotResult(slot.label, slot.role, False, "", "", "", trust=trust.source or "integrity only")
    if len(containers) > 1:
        result.code = "duplicate"
        result.message_en = (f"{len(containers)} {slot.name} elements where one is expected "
                             "(possible signature wrapping)")
        result.message_vi = f"có {len(containers)} thẻ {slot.name} (nghi ngờ bọc chữ ký)"
        return result
    text = checkupsig.slot_text(containers[0]) if slot.checkup and containers else ""
    if text and sigs:
        result.code = "profile"
        result.message_en = "the slot holds both base64 text and a Signature element"
        result.message_vi = "thẻ chữ ký chứa cả văn bản base64 lẫn thẻ Signature"
        return result
    if not sigs and not text:
        result.code = "not-signed"
        result.message_en = "not signed (the portal answers 123)"
        result.message_vi = "chưa ký số (cổng trả mã 123)"
        return result
    if len(sigs) > 1:
        result.code = "duplicate"
        result.message_en = f"{len(sigs)} signatures where one is expected"
        result.message_vi = f"có {len(sigs)} chữ ký, chỉ được phép một"
        return result
    if slot.name == checkupsig.FACILITY and checkupsig.unsigned(root, checkupsig.DOCTOR):
        result.code = "order"
        result.message_en = ("CKS_NGUOI_KET_LUAN is empty: a facility signature covers the doctor's and is not valid "
                             "without it (sign --as doctor first, then --as facility)")
        result.message_vi = "CKS_NGUOI_KET_LUAN trống: chữ ký cơ sở phải ký sau và bao trùm chữ ký bác sĩ"
        return result
    try:
        if text:  # the base64 (CMS) form of a checkup slot, bound to its slot (checkupsig)
            signer, others = checkupsig.verify_text(data, slot.name, text, limits)
        else:
            signer, others = _verify_one(root, slot, sigs[0])
    except (_Fail, CmsError) as fail:
        result.code, result.message_en, result.message_vi = fail.code, fail.en, fail.vi
        return result
    except InputError as exc:  # a part of the signature that does not parse on its own: unreadable, 125
        result.code = "bad-signature"
        result.message_en = f"the signature cannot be read: {exc.message} (the portal answers 125)"
        result.message_vi = f"không đọc được chữ ký: {exc.message} (cổng trả mã 125)"
        return result
    at = at or now()
    result.signer = describe(signer, at)
    result.certificate = signer
    if at > signer.not_valid_after_utc:
        result.code = "cert-expired"
        result.message_en = f"signed with a certificate that expired on {signer.not_valid_after_utc:%Y-%m-%d}"
        result.message_vi = f"chứng thư số ký đã hết hạn ngày {signer.not_valid_after_utc:%Y-%m-%d}"
        return result
    if at < signer.not_valid_before_utc:
        result.code = "cert-not-yet-valid"
        result.message_en = f"the certificate is not valid until {signer.not_valid_before_utc:%Y-%m-%d}"
        result.message_vi = f"chứng thư số chưa có hiệu lực đến ngày {signer.not_valid_before_utc:%Y-%m-%d}"
        return result
    problem = signer_problem(signer)
    if problem is not None:  # what sign refuses, verify and the portal refuse too
        result.code = "cert-policy"
        en, vi = in_language("en", problem[0]), in_language("vi", problem[0])
        result.message_en = f"the signer's certificate may not sign: {en} (the portal answers 125)"
        result.message_vi = f"chứng thư số của người ký không được phép ký: {vi} (cổng trả mã 125)"
        return result
    if trust.kind == "none":
        result.chain, result.chain_vi = both("integrity only")
        result.code = "integrity-only"
        result.ok = trust.integrity_only
        if trust.integrity_only:
            result.message_en = "signature intact; the signer was not checked (integrity only, as asked)"
            result.message_vi = "chữ ký còn nguyên vẹn; chưa kiểm tra người ký (chỉ kiểm tra toàn vẹn, theo yêu cầu)"
        else:
            result.message_en = ("signature intact, but the signer was checked against no trust source (integrity "
                                 "only): give --ca-bundle FILE or --cert FILE")
            result.message_vi = ("chữ ký còn nguyên vẹn nhưng người ký chưa được đối chiếu với nguồn tin cậy nào "
                                 "(chỉ kiểm tra toàn vẹn): dùng --ca-bundle FILE hoặc --cert FILE")
        return result
    trusted, why, why_vi = trust.check_both(signer, others, at)
    result.chain = f"trusted ({trust.source})" if trusted else f"untrusted: {why}"  # JSON: English words
    result.chain_vi = f"được tin cậy ({trust.named('vi')})" if trusted else f"không được tin cậy: {why_vi}"
    if not trusted:
        result.code = "untrusted"
        result.message_en = f"the signer is not trusted: {why}"
        result.message_vi = f"chứng thư số không được tin cậy ({trust.named('vi')}): {why_vi}"
        return result
    result.ok, result.code = True, "ok"
    result.message_en = f"signature valid, signer trusted by the {trust.source}"
    result.message_vi = f"chữ ký hợp lệ, người ký được tin cậy theo {trust.named('vi')}"
    return result


def verify_bytes(data: bytes, path: str, *, trust: Trust, at: dt.datetime | None = None,
                 limits: ParseLimits | None = None, root: etree._Element | None = None) -> VerifyReport:
    """Verify every signature slot of one document against ``trust``; never raises for a bad document.
    ``root``: the tree of ``data`` parsed by the caller (:func:`sohs_cli.foundation.xmlsafe.parse_bytes`, blanks
    kept), read and never changed here; without it the bytes are parsed."""
    report = VerifyReport(path=path)
    if root is None:
        try:
            root = parse_bytes(data, source=path, limits=limits)
        except InputError as exc:
            report.error_code, report.error = exc.code, exc.message
            return report
    tag = root.tag if isinstance(root.tag, str) else ""
    report.kind = tag
    slots = dsig.slots_for(tag)
    if not slots:
        report.error_code = "not-signable"
        report.error = _("<{tag}> is not a signed document; the envelope (GIAMDINHHS, KHAMSUCKHOE) or the "
                         "check-in file carries the signature", tag=tag)
        return report
    in_slots = [s for slot in slots for s in dsig.slot_signatures(root, slot)]
    stray = [s for s in root.iter(_DS + "Signature") if s not in in_slots]
    if stray:
        report.error_code = "signature-misplaced"
        report.error = _("a Signature at line {line} is outside the signature slots, CHUKYDONVI (Chữ ký đơn vị): "
                         "possible signature wrapping", line=stray[0].sourceline)
        return report
    elements = [c for c in root if isinstance(c.tag, str)]
    # an export without CHUKYDONVI at all is simply not signed yet (sohs sign adds the slot, issue 14)
    if (not elements or elements[-1].tag != "CHUKYDONVI") and root.find("CHUKYDONVI") is not None:
        report.error_code = "signature-misplaced"
        report.error = _("CHUKYDONVI (Chữ ký đơn vị) must be the last element of the document")
        return report
    if tag == dsig.CHECKUP_ROOT and checkupsig.form_of(root) == "mixed":
        report.error_code = "signature-form"
        report.error = _("CKS_NGUOI_KET_LUAN (Chữ ký số người kết luận) and CKS_BENH_VIEN (Chữ ký số bệnh viện) use "
                         "different forms (base64 and XML-DSig); both slots of a checkup record use one")
        return report
    for slot in slots:
        report.signatures.append(verify_slot(data, slot, trust=trust, source=path, at=at,
                                             limits=limits, root=root))
    _one_signer_per_role(report)
    return report


def _one_signer_per_role(report: VerifyReport) -> None:
    """A checkup record is signed by two parties (QĐ 2062): one certificate in both slots is refused."""
    if len(report.signatures) != 2:
        return
    doctor, facility = report.signatures
    if doctor.ok and facility.ok and doctor.certificate is not None and doctor.certificate == facility.certificate:
        facility.ok, facility.code = False, "same-signer"
        facility.message_en = ("signed with the same certificate as CKS_NGUOI_KET_LUAN; the doctor and the facility "
                               "sign with their own certificates")
        facility.message_vi = "cùng chứng thư số với CKS_NGUOI_KET_LUAN; bác sĩ và cơ sở phải ký bằng chứng thư riêng"
