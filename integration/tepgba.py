"""An independent Python implementation of the GBA pieces tep builds in C (common/
cmn_milenage.c, common/cmn_gba.c; docs/keys.md "GBA"): Milenage (3GPP TS 35.206) on the
`cryptography` package's AES-128, the TS 33.220 Annex B key derivation, B-TID, and the
USIM and network halves of UMTS AKA (TS 33.102 6.3), so the scenarios can act as a device
or check tep-bsf without tep's own code. Checked against the 3GPP test sets by
integration/selfcheck/test_tepgba_known_answer.py."""

import base64
import hashlib
import hmac
import os
import re
import urllib.error
import urllib.request

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


# ---- the UE side of Ub (HTTP Digest AKA, RFC 3310 / TS 24.109), for the scenarios ----

SQN_DELTA = 1 << 28  # TS 33.102 C.2.2, the window tep-bsf's sqn_delta defaults to


def md5_hex(b):
    return hashlib.md5(b).hexdigest()


def digest_response(user, realm, pw, method, uri, nonce, nc, cnonce, qop="auth-int", body=b""):
    """RFC 2617 3.2.2.1 request-digest with a binary password (RES), qop auth-int."""
    ha1 = md5_hex(user.encode() + b":" + realm.encode() + b":" + pw)
    ha2 = md5_hex(("%s:%s:%s" % (method, uri, md5_hex(body))).encode())
    return md5_hex(("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2)).encode())


def parse_challenge(header):
    """The parameters of a WWW-Authenticate: Digest header."""
    assert header.startswith("Digest "), header
    return dict((m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
                for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', header[7:]))


class Usim:
    """A software USIM: K, OPc, SQN_MS and the freshness check of TS 33.102 6.3.3."""

    def __init__(self, k, opc, sqn_ms=0, delta=SQN_DELTA):
        self.k, self.opc, self.sqn_ms, self.delta = k, opc, sqn_ms, delta

    def authenticate(self, rand, autn_):
        """("ok", RES, CK, IK) | ("sync", AUTS) | ("mac", None)."""
        opened = autn_open(self.k, self.opc, rand, autn_)
        if opened is None:
            return ("mac", None)
        sqn, res, ck, ik = opened
        if not (sqn > self.sqn_ms and sqn - self.sqn_ms <= self.delta):
            return ("sync", auts(self.k, self.opc, rand, self.sqn_ms))
        self.sqn_ms = sqn
        return ("ok", res, ck, ik)


def ub_get(url, authorization):
    """One GET on Ub: (status, headers, body text)."""
    rq = urllib.request.Request(url, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def _auth(impi, realm, uri, nonce="", response="", extra=""):
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"%s'
            % (impi, realm, nonce, uri, response, extra))


def bootstrap(url, impi, usim, realm="bsf.tep.local", wrong_res=False, max_rounds=3):
    """The GBA bootstrapping procedure over Ub (TS 33.220 4.5.2) as a UE does it.
    Returns a dict: status (the last HTTP status), rounds, resyncs, and on 200 btid,
    lifetime, rand, ck, ik."""
    uri = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    out = {"resyncs": 0, "rounds": 0}
    status, headers, body = ub_get(url, _auth(impi, realm, uri))
    for _ in range(max_rounds):
        out["rounds"] += 1
        out["status"] = status
        if status != 401:
            return out
        ch = parse_challenge(headers["WWW-Authenticate"])
        raw = base64.b64decode(ch["nonce"])
        rand, autn_ = raw[:16], raw[16:32]
        res = usim.authenticate(rand, autn_)
        cnonce = os.urandom(8).hex()
        if res[0] == "sync":
            out["resyncs"] += 1
            resp = digest_response(impi, realm, b"", "GET", uri, ch["nonce"], "00000001", cnonce)
            extra = (', qop=auth-int, nc=00000001, cnonce="%s", algorithm=AKAv1-MD5, auts="%s"'
                     % (cnonce, base64.b64encode(res[1]).decode()))
            status, headers, body = ub_get(url, _auth(impi, realm, uri, response=resp,
                                                      extra=extra, nonce=ch["nonce"]))
            continue
        assert res[0] == "ok", "the network failed the USIM's MAC check"
        pw = bytes([res[1][0] ^ 1]) + res[1][1:] if wrong_res else res[1]
        resp = digest_response(impi, realm, pw, "GET", uri, ch["nonce"], "00000001", cnonce)
        extra = ', qop=auth-int, nc=00000001, cnonce="%s", algorithm=AKAv1-MD5' % cnonce
        status, headers, body = ub_get(url, _auth(impi, realm, uri, ch["nonce"], resp, extra))
        out["status"] = status
        if status == 200:
            out["btid"] = re.search(r"<btid>([^<]+)</btid>", body).group(1)
            out["lifetime"] = re.search(r"<lifetime>([^<]+)</lifetime>", body).group(1)
            out["rand"], out["ck"], out["ik"] = rand, res[2], res[3]
        return out
    return out
