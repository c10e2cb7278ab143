"""An independent Python implementation of tep's key derivations (common/cmn_kdf.h,
docs/keys.md), so a test can hold the same Kpsa as a device without using tep's C code."""

import hashlib
import hmac

LABEL_KPSA = b"oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
LABEL_KM = b"oneM2M Enrolment Key to Master Credential derivation"
LABEL_KUC = b"oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"


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


def kuc(ke, suid, target_id):
    """Kuc = HMAC-SHA-256(Ke, label || decimal(SUID) || target-ID) [TS-0003 10.3.7;
    docs/keys.md item 7]."""
    return _hmac(ke, LABEL_KUC + str(int(suid)).encode("ascii") + target_id.encode("ascii"))


def kuc_id(kuc_key, mef_fqdn):
    """The Key Identifier of a MEF-registered Kuc: hex(HMAC(Kuc, "tep KucID")[0..15]) "@"
    MEF-FQDN (tep's choice, docs/keys.md)."""
    return _hmac(kuc_key, b"tep KucID")[:16].hex() + "@" + mef_fqdn


# ---- end-to-end keys (TS-0003 10.3.6, 10.3.8; docs/keys.md items 13-19) ----------------

E2E_LABELS = (b"E2E Message Authentication Key", b"E2E Message Confidentiality Key",
              b"E2E Attribute Authenticity Key", b"E2E Attribute Confidentiality Key")
LABEL_SESSION_ESPRIM = b"oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm"


def e2e_master(pair_key, b_id):
    """Ke2e_master = HMAC-SHA-256(salt = End-Point-B-ID, Kpsa or Kc) [10.3.6.1]."""
    return _hmac(b_id.encode("ascii"), pair_key)


def e2e_keys(pair_key, b_id):
    """The four expansions T(1)..T(4) of 10.3.6.2 as a dict: msg_auth, msg_conf, att_auth,
    att_conf. T(i) = HMAC(master, T(i-1) || label_i || byte(i)), T(0) empty."""
    master = e2e_master(pair_key, b_id)
    out, prev = [], b""
    for i, label in enumerate(E2E_LABELS, start=1):
        prev = _hmac(master, prev + label + bytes([i]))
        out.append(prev)
    return dict(zip(("msg_auth", "msg_conf", "att_auth", "att_conf"), out))


def session_esprim_key(pairwise, rand_receiver, rand_originator):
    """sessionESPrimKey = HMAC-SHA256(pairwiseESPrimKey, esrv(receiver) || esrv(originator)
    || label), each esprimRandValue as its 16 bytes [10.3.8.2]."""
    return _hmac(pairwise, rand_receiver + rand_originator + LABEL_SESSION_ESPRIM)


def rand_text(rand):
    """esprimRandValue as an xs:NCName: "r" + 32 lower-case hex digits."""
    return "r" + rand.hex()


LABEL_ESCERTKE = b"EXPORTER-oneM2M-ESCertKE"


def tls12_prf_sha256(secret, label, seed, length):
    """The TLS 1.2 PRF (RFC 5246 5) with SHA-256: P_SHA256(secret, label || seed)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = _hmac(secret, a)
        out += _hmac(secret, a + seed)
    return out[:length]


def escertke_exporter(master_secret, client_random, server_random):
    """ESCertKE's exporter (TS-0003 10.3.1; RFC 5705 4 without a context value):
    48 bytes; returns (pairwiseE2EKeyID, pairwiseE2EKey) = (bytes 0..15, 16..47)."""
    ex = tls12_prf_sha256(master_secret, LABEL_ESCERTKE, client_random + server_random, 48)
    return ex[:16], ex[16:]
