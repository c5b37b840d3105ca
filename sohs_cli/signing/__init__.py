"""Signing: the XML-DSig profile the portal verifies, and everything about keys and certificates.

Owns: the signature profile (:mod:`.dsig`), signing one document (:mod:`.sign`) and many
(:mod:`.signbatch`), verification (:mod:`.verification`) against a trust source (:mod:`.trust`),
certificates and keys (:mod:`.certs`), PKCS#11 tokens (:mod:`.hsm`), CMS and the checkup signatures
(:mod:`.cms`, :mod:`.checkupsig`), the test PKI of the demo and the tests (:mod:`.testpki`).
cryptography lives here.

May import: ``sohs_cli.validation`` (a batch validates before it signs), ``sohs_cli.documents``,
``sohs_cli.foundation``.
"""
