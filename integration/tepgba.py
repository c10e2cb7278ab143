"""An independent Python implementation of the GBA pieces tep builds in C (common/
cmn_milenage.c, common/cmn_gba.c; docs/keys.md "GBA"): Milenage (3GPP TS 35.206) on the
`cryptography` package's AES-128, the TS 33.220 Annex B key derivation, B-TID, and the
USIM and network halves of UMTS AKA (TS 33.102 6.3), so the scenarios can act as a device
or check tep-bsf without tep's own code. Checked against the 3GPP test sets by
integration/selfcheck/test_tepgba_known_answer.py."""

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

UA_DTLS_PSK = bytes([0x01, 0x00, 0x01, 0xC0, 0xA8])  # TS 33.220 Annex H, PSK TLS, 0xC0A8
RESYNC_AMF = b"\x00\x00"


def _e(k, block):
    enc = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def _rot(x, bits):
    n = bits // 8
    return x[n:] + x[:n]


def _c(i):
    return bytes(15) + bytes([i])


def opc(k, op):
    """OPc = OP xor E_K(OP) [TS 35.206 4.1]."""
    return _xor(op, _e(k, op))


def f1(k, opc_, rand, sqn, amf):
    """(MAC-A, MAC-S) = f1, f1*."""
    temp = _e(k, _xor(rand, opc_))
    in1 = sqn + amf + sqn + amf
    out1 = _xor(_e(k, _xor(_xor(temp, _rot(_xor(in1, opc_), 64)), _c(0))), opc_)
    return out1[:8], out1[8:]


def f2345(k, opc_, rand):
    """(RES, CK, IK, AK, AK*) = f2, f3, f4, f5, f5*."""
    temp = _e(k, _xor(rand, opc_))

    def out(r, c):
        return _xor(_e(k, _xor(_rot(_xor(temp, opc_), r), _c(c))), opc_)
    o2, o3, o4, o5 = out(0, 1), out(32, 2), out(64, 4), out(96, 8)
    return o2[8:], o3, o4, o2[:6], o5[:6]


def sqn_bytes(n):
    return n.to_bytes(6, "big")


def autn(k, opc_, rand, sqn, amf):
    """AUTN = (SQN xor AK) || AMF || MAC-A [TS 33.102 6.3.2]."""
    ak = f2345(k, opc_, rand)[3]
    return _xor(sqn_bytes(sqn), ak) + amf + f1(k, opc_, rand, sqn_bytes(sqn), amf)[0]


def autn_open(k, opc_, rand, autn_):
    """USIM side: (SQN, RES, CK, IK), or None when MAC-A is wrong."""
    res, ck, ik, ak, _ = f2345(k, opc_, rand)
    sqn = _xor(autn_[:6], ak)
    if f1(k, opc_, rand, sqn, autn_[6:8])[0] != autn_[8:]:
        return None
    return int.from_bytes(sqn, "big"), res, ck, ik


def auts(k, opc_, rand, sqn_ms):
    """AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S over AMF 0x0000 [TS 33.102 6.3.3]."""
    ak_star = f2345(k, opc_, rand)[4]
    return _xor(sqn_bytes(sqn_ms), ak_star) + f1(k, opc_, rand, sqn_bytes(sqn_ms),
                                                   RESYNC_AMF)[1]


def kdf(key, fc, *params):
    """TS 33.220 B.2: HMAC-SHA-256(key, FC || P0 || L0 || ... )."""
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def ks_naf(ck, ik, rand, impi, naf_fqdn, ua=UA_DTLS_PSK):
    """Ks_NAF = KDF(Ks, "gba-me", RAND, IMPI, NAF_Id), Ks = CK || IK [TS 33.220 B.3]."""
    return kdf(ck + ik, 0x01, b"gba-me", rand, impi.encode(), naf_fqdn.encode() + ua)


def btid(rand, bsf_name):
    """B-TID = base64(RAND) "@" BSF server name [TS 33.220 4.5.2]."""
    return base64.b64encode(rand).decode() + "@" + bsf_name
