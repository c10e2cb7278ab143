"""An independent Python implementation of tep's key derivations (common/cmn_kdf.h,
docs/keys.md), so a test can hold the same Kpsa as a device without using tep's C code."""

import hashlib
import hmac

LABEL_KPSA = b"oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
LABEL_KM = b"oneM2M Enrolment Key to Master Credential derivation"


def _hmac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def kpsa(ke, registrar_cse_id):
    """Kpsa = HMAC-SHA-256(Ke, label || registrar CSE-ID) [TS-0003 10.3]."""
    return _hmac(ke, LABEL_KPSA + registrar_cse_id.encode("ascii"))


def kpsa_id(kpsa_key, issuer_fqdn):
    """KpsaID = hex(HMAC-SHA-256(Kpsa, "tep KpsaID")[0..15]) "@" MEF-FQDN (tep's choice)."""
    return _hmac(kpsa_key, b"tep KpsaID")[:16].hex() + "@" + issuer_fqdn


def km(ke, maf_id):
    return _hmac(ke, LABEL_KM + maf_id.encode("ascii"))


def km_id(km_key, maf_fqdn):
    """KmID = hex(HMAC-SHA-256(Km, "tep KmID")[0..15]) "@" MAF-FQDN (tep's choice,
    docs/keys.md 9)."""
    return _hmac(km_key, b"tep KmID")[:16].hex() + "@" + maf_fqdn
