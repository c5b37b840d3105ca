"""Who may have signed: the trust source of a verdict, and the chain to it.

A signature that verifies proves only that the bytes are as some key signed them; anyone can make a
key. A "valid" verdict therefore always names where the trust in the signer came from (issue 15):

* ``ca_bundle`` — the signer's certificate chains to a CA in an explicit PEM file (``--ca-bundle``,
  setting ``verify.ca_bundle``). No system or browser store is ever implied.
* ``pinned`` — the signer's certificate is one of the certificates given (``--cert``, setting
  ``verify.certificates``: the certificates registered for the facility on the portal, "Danh mục
  chứng thư số"). This is how the portal itself decides (DOMAIN.md §5.7), and how the simulated
  portal does (its accounts' registered certificates).
* none — "integrity only": the signature is intact but nobody vouched for the signer. Such a verdict
  is not valid unless the caller asked for integrity only (``sohs verify --integrity-only``).

Chain policy (``cryptography.x509.verification``, so the rules are RFC 5280's, not ours): the CA
certificates must meet cryptography's web-PKI CA profile — ``basicConstraints cA=TRUE`` (critical),
``keyUsage keyCertSign``, path-length and name constraints honoured, no critical extension it does not
know, RSA ≥ 2048 or ECDSA P-256/P-384 keys, SHA-256 or stronger signatures — and be valid at the time
of verification. The signer's own certificate is not held to the web-PKI leaf profile (Vietnamese
signing certificates from VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA … carry ``clientAuth``,
``emailProtection`` or no extended key usage at all, and no ``subjectAltName``): it is held to the
signer policy of :func:`sohs_cli.signing.certs.signer_problem`, the same in ``sign``, ``verify`` and the
simulated portal (``digitalSignature`` or ``nonRepudiation``, RSA ≥ 2048, valid now). At most
``MAX_INTERMEDIATES`` CA certificates between the signer and the trusted CA: the national root
(Root CA, Bộ TT&TT) → a licensed CA → the signer is two. Revocation (CRL, OCSP) is not checked: the
portal's registered-certificate list is where a revoked certificate is removed.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import ClientVerifier, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from sohs_cli.foundation.config import Settings
from sohs_cli.foundation.errors import CertificateError, ConfigError, InputError
from sohs_cli.foundation.fileio import read_file
from sohs_cli.foundation.i18n import N_, _, both, translate
from sohs_cli.signing.certs import load_ca_bundle, load_certificates, now

MAX_INTERMEDIATES = 4


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Trust:
    """Where trust in a signer comes from; ``source`` names it in words in every verdict (English;
    ``source_vi`` in Vietnamese: a verdict carries both, see :meth:`named`)."""

    kind: str  # ca_bundle | pinned | signer | none
    source: str  # "CA bundle vnpt-ca.pem", "pinned certificate clinic.pem", "" for none
    anchors: tuple[x509.Certificate, ...] = ()
    pinned: tuple[x509.Certificate, ...] = ()
    integrity_only: bool = False  # kind none: accept an intact signature as valid all the same
    source_vi: str = ""

    def named(self, lang: str) -> str:
        """The source in ``lang``."""
        return self.source_vi or self.source if lang == "vi" else self.source

    @classmethod
    def none(cls, *, integrity_only: bool = False) -> Trust:
        return cls("none", "", integrity_only=integrity_only)

    @classmethod
    def of_ca_bundle(cls, path: str) -> Trust:
        en, vi = both("CA bundle {path}", path=path)
        return cls("ca_bundle", en, anchors=tuple(load_ca_bundle(path)), source_vi=vi)

    @classmethod
    def of_certificates(cls, certs: list[x509.Certificate] | tuple[x509.Certificate, ...], source: str,
                        source_vi: str = "") -> Trust:
        return cls("pinned", source, pinned=tuple(certs), source_vi=source_vi)

    @classmethod
    def of_files(cls, paths: list[str], what: str = N_("pinned certificate {paths}")) -> Trust:
        """``what``: a message id with ``{paths}``, naming the source."""
        certs: list[x509.Certificate] = []
        for path in paths:
            try:
                certs += load_certificates(read_file(path), path)
            except InputError as exc:
                raise CertificateError(exc.message, hint=_("give a readable PEM or DER certificate")) from None
        en, vi = both(what, paths=", ".join(paths))
        return cls.of_certificates(certs, en, vi)

    def check(self, signer: x509.Certificate, intermediates: list[x509.Certificate],
              at: dt.datetime | None = None) -> tuple[bool, str]:
        """Whether ``signer`` is trusted by this source, and, if not, why in words (English)."""
        ok, why_en, _why_vi = self.check_both(signer, intermediates, at)
        return ok, why_en

    def check_both(self, signer: x509.Certificate, intermediates: list[x509.Certificate],
                   at: dt.datetime | None = None) -> tuple[bool, str, str]:
        """Whether ``signer`` is trusted by this source, and, if not, why in English and Vietnamese.
        A pinned certificate is trusted as it is; otherwise the signer must chain to an anchor."""
        if self.kind == "none":
            return (False, *both("no trust source"))
        if _der(signer) in {_der(c) for c in self.pinned}:
            return True, "", ""
        if self.anchors:
            return _chain(signer, intermediates, list(self.anchors), at)
        subject, serial = signer.subject.rfc4514_string(), f"{signer.serial_number:X}"
        return (False, translate("en", "'{subject}' (serial {serial}) is not among the {source}", subject=subject,
                                 serial=serial, source=self.source),
                translate("vi", "'{subject}' (serial {serial}) is not among the {source}", subject=subject,
                          serial=serial, source=self.named("vi")))


def from_settings(s: Settings, signer: x509.Certificate | None = None,
                  signer_chain: list[x509.Certificate] | None = None) -> Trust:
    """The trust source of ``submit`` and ``run`` (README "Trust"), first that is set:

    1. ``verify.ca_bundle`` — the CAs that issue the facility's and doctors' certificates;
    2. ``verify.certificates`` — a PEM file of the certificates registered on the portal;
    3. the facility's own signing certificate (``run``, which signs: ``signing.p12`` / PKCS#11),
       pinned, with the CA certificates that travel with it (a doctor's certificate from the same CA
       then chains); ``signing.cert`` (a PEM, readable without the key's password) for ``submit``.

    None of these: exit 3, for a verdict that trusts nobody would send anything anyone signed.
    """
    if s["verify.ca_bundle"]:
        return Trust.of_ca_bundle(s["verify.ca_bundle"])
    if s["verify.certificates"]:
        return Trust.of_files([s["verify.certificates"]], N_("registered certificates in {paths}"))
    if signer is None and s["signing.cert"]:
        return Trust.of_files([s["signing.cert"]], N_("facility certificate (signing.cert) {paths}"))
    if signer is not None:
        anchors = tuple(c for c in signer_chain or [] if c.subject != signer.subject)
        en, vi = both("facility's signing certificate and the CAs of its chain") if anchors else \
            both("facility's signing certificate")
        return Trust("signer", en, anchors=anchors, pinned=(signer,), source_vi=vi)
    raise ConfigError(
        _("no trust source for signatures: a signature by anyone's key would pass"),
        hint=_("set verify.ca_bundle (the CA that issues your certificates) or verify.certificates (the "
               "certificates registered on the portal) in sohs.toml, or SOHS_VERIFY_CA_BUNDLE"))


def chain_to(leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate],
             at: dt.datetime | None = None) -> tuple[bool, str]:
    """Whether ``leaf`` chains to one of ``anchors`` under the policy above, and why not in words."""
    ok, why_en, _why_vi = _chain(leaf, intermediates, anchors, at)
    return ok, why_en


def _chain(leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate],
           at: dt.datetime | None = None) -> tuple[bool, str, str]:
    """:func:`chain_to` with why not in English and Vietnamese."""
    if not anchors:
        return (False, *both("the CA bundle holds no certificate"))
    if _der(leaf) in {_der(a) for a in anchors}:
        return True, "", ""  # the signer's own certificate is in the bundle: pinned by it
    when = (at or now()).replace(microsecond=0)  # one verifier a second serves a whole batch
    try:
        _verifier(tuple(anchors), when).verify(leaf, intermediates)
    except VerificationError as exc:
        return (False, *_why(leaf, intermediates, anchors, str(exc)))
    return True, "", ""


@functools.lru_cache(maxsize=8)
def _verifier(anchors: tuple[x509.Certificate, ...], at: dt.datetime) -> ClientVerifier:
    return (PolicyBuilder().store(Store(list(anchors))).time(at).max_chain_depth(MAX_INTERMEDIATES)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                ee_policy=ExtensionPolicy.permit_all())
            .build_client_verifier())


def _why(leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate],
         detail: str) -> tuple[str, str]:
    """Why the chain fails, in English and Vietnamese. The verifier's own detail (cryptography's,
    English) is kept as it is in both: it is the library's diagnosis, named as such."""
    names = {c.subject for c in [*anchors, *intermediates]}
    if leaf.issuer == leaf.subject and leaf.subject not in names:
        return both("self-signed '{subject}' is not in the CA bundle", subject=leaf.subject.rfc4514_string())
    if leaf.issuer not in names:
        return both("issuer '{issuer}' is not in the CA bundle", issuer=leaf.issuer.rfc4514_string())
    for prefix in ("validation failed: ", "candidates exhausted: "):
        detail = detail.removeprefix(prefix)
    detail = detail.split(" (encountered processing", 1)[0]
    if "all candidates exhausted with no interior errors" in detail:
        return both("the chain to the CA bundle fails: no certificate in the bundle signed it")
    return both("the chain to the CA bundle fails (the verifier says: {detail})", detail=detail)
