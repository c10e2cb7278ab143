"""41: dynamic authorization, indirect flow (TS-0003 7.3.2.3) and the token checks of
7.3.2.6 over CoAPS. An AE asks tep-authz (the DAS) for a token over DTLS-PSK with its
Km (psk_identity KmID, SUID 21), then presents it to tep-cse by Token-ID (tids; tep's
ES256 tokens are longer than the 255 bytes a Uri-Query option may hold), gets a
Local-Token-ID back in the ATI option (327) and uses it (ltids). Every refusal of the
token matrix (expired, not yet valid, wrong audience, wrong holder, bad signature,
unknown issuer, alg none, revoked) answers 4103 ORIGINATOR_HAS_NO_PRIVILEGE with its
reason in tep-cse's log and, for the PDP's refusals, in `tepctl audit`.

All clients are Debian-independent C (cse-probe, libcoap) driven with keys derived in
Python from the device's Ke (tepkeys.py), so the CSE and MAF key derivations are checked
on the wire as well."""

import base64
import json
import os
import time

import pytest

import harness
import tepkeys

GRANT_LT = 600


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _km_id(km, maf_fqdn):
    """KmID = hex(HMAC-SHA-256(Km, "tep KmID")[0..15]) "@" MAF-FQDN (cmn_kdf.h)."""
    return tepkeys._hmac(km, b"tep KmID")[:16].hex() + "@" + maf_fqdn


class DynPlatform:
    """The three daemons with tep-authz's CoAPS token endpoint and a grants file, and
    tep-cse trusting tep-authz's token key (through environment overrides); settings:
    more harness.Platform settings."""

    def __init__(self, monkeypatch, das=False, grants=None, before_start=None, **settings):
        self.p = harness.Platform(**settings)
        self.authz_port = harness.free_udp_ports(1)[0]
        cse = self.p.env["CSE_NAME"]
        grants = grants or [
            {"or": "Cdevice01", "ris": ["/%s/Cdevice02/*" % cse], "acop": 2, "lt": GRANT_LT}]
        gpath = os.path.join(self.p.dir, "grants.json")
        with open(gpath, "w") as f:
            json.dump({"grants": grants}, f)
        key = os.path.join(self.p.env["DATA_DIR"], "authz", "token-issuer.pub")
        for k, v in {"TEP_AUTHZ_COAPS_LISTEN": "127.0.0.1:%d" % self.authz_port,
                     "TEP_AUTHZ_GRANTS_FILE": gpath,
                     "TEP_AUTHZ_TOKEN_ISSUER": self.p.env["MAF_ID"],
                     "TEP_AUTHZ_TOKEN_ISSUER_KEY": key,
                     "TEP_AUTHZ_DAS": "true" if das else "false"}.items():
            monkeypatch.setenv(k, v)
        if before_start is not None:  # e.g. PDP replicas added (integration 252)
            before_start(self.p)
        self.p.start()

    def km(self, dev):
        st = dev.state_values()
        km = tepkeys.km(bytes.fromhex(st["ke"]), self.p.env["MAF_ID"])
        return "%s:%s" % (_km_id(km, self.p.env["MAF_ID"]), km.hex())

    def kpsa(self, dev):
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        return "%s:%s" % (tepkeys.kpsa_id(kpsa, self.p.env["MEF_FQDN"]), kpsa.hex())

    def probe(self, psk, port, method, path, body=None, query=None, from_=None):
        argv = [os.path.join(harness.BUILD, "cse-node", "cse-probe"), "--psk", psk]
        if body is not None:
            argv += ["--body", body]
        if query is not None:
            argv += ["--query", query]
        if from_ is not None:
            argv += ["--from", from_]
        return harness.run_tool(argv + ["127.0.0.1", str(port), method, path])

    def ask_token(self, dev, ris, acop=2, **extra):
        """POST /token at tep-authz: (coap code, answer JSON)."""
        ask = dict({"aud": self.p.env["CSE_ID"], "ris": ris, "acop": acop}, **extra)
        for _ in range(20):  # the Km reaches tep-authz by event right after enrolment
            r = self.probe(self.km(dev), self.authz_port, "POST", "token", body=json.dumps(ask))
            if r.get("coap") is not None:
                break
            time.sleep(0.25)
        assert r.get("coap") is not None, "%s\n%s" % (r, self.p.logs())
        body = r.get("body")
        return r.get("coap"), json.loads(body) if body else {}

    def read(self, dev, path, query=None):
        ae = dev.state_values()["enrolee_id"]
        return self.probe(self.kpsa(dev), self.p.ports["cse_coaps"], "GET", path,
                          query=query, from_=ae)

    def stop(self):
        self.p.assert_clean_stop()


@pytest.fixture
def dyn(monkeypatch, request):
    made = []

    def make(**kw):
        d = DynPlatform(monkeypatch, **kw)
        made.append(d)
        return d

    yield make
    try:
        for d in made:
            d.stop()
    finally:
        for d in made:
            d.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def _setup(d):
    owner, cnt, _ = harness.device_with_data(d.p, "device02")
    reader = d.p.enrolled_device("device01")
    assert reader.state_values()["enrolee_id"] == "Cdevice01"
    return owner, reader, cnt


def _refused(d, r, reason):
    assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
    d.p["cse"].wait_log("rule=token: %s" % reason, 5)


def test_indirect_flow_token_by_id_then_local_id(dyn):
    d = dyn()
    _, reader, cnt = _setup(d)
    assert d.read(reader, cnt).rsc == 4103  # no policy for device01 yet

    code, ans = d.ask_token(reader, ["/" + cnt])
    assert code == "2.01", ans
    assert ans["azp"] == "//tep.local%s/Cdevice01" % d.p.env["CSE_ID"]
    header, payload, sig = ans["tkn"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "ES256", "typ": "JWT"}
    assert len(base64.urlsafe_b64decode(sig + "==")) == 64  # raw r||s

    r = d.read(reader, cnt, query="tids=" + ans["tkid"])
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    lti, tkid = r.get("ati").split(":", 1)
    assert tkid == ans["tkid"]
    r = d.read(reader, cnt, query="ltids=" + lti)
    assert r.rsc == 2000, str(r)

    audit = d.p.tepctl("audit", "--originator", "Cdevice01", admin="authz")
    assert audit.rc == 0, str(audit)
    lines = audit.out.splitlines()
    assert any('permit=1' in l and 'rule="token[0].' in l for l in lines), audit.out
    assert any('permit=0' in l for l in lines), audit.out


def test_token_refused_without_grant(dyn):
    d = dyn()
    _, reader, cnt = _setup(d)
    code, ans = d.ask_token(reader, ["/" + cnt], acop=8)  # DELETE is not granted
    assert code == "4.03", ans
    code, ans = d.ask_token(reader, ["/%s/Cdevice09/x" % d.p.env["CSE_NAME"]])
    assert code == "4.03", ans


def test_token_matrix_over_coaps(dyn):
    d = dyn()
    owner, reader, cnt = _setup(d)
    other = d.p.enrolled_device("device03")
    now = int(time.time())

    _, exp = d.ask_token(reader, ["/" + cnt], lt=1)
    _, later = d.ask_token(reader, ["/" + cnt], nbf=now + 300)
    _, aud = d.ask_token(reader, ["/" + cnt], aud="/other-cse")
    _, good = d.ask_token(reader, ["/" + cnt])
    time.sleep(2.2)

    _refused(d, d.read(reader, cnt, query="tids=" + exp["tkid"]), "expired")
    _refused(d, d.read(reader, cnt, query="tids=" + later["tkid"]), "not yet valid")
    _refused(d, d.read(reader, cnt, query="tids=" + aud["tkid"]), "wrong audience")
    _refused(d, d.read(other, cnt, query="tids=" + good["tkid"]), "wrong holder")

    # Tokens made here (short enough for one Uri-Query option): never signed by tep-authz.
    holder = "//tep.local%s/Cdevice01" % d.p.env["CSE_ID"]
    claims = {"jti": "x@" + d.p.env["MAF_ID"], "iss": d.p.env["MAF_ID"], "azp": holder,
              "nbf": now - 10, "exp": now + 600, "aud": d.p.env["CSE_ID"]}

    def jws(header, payload, sig):
        return "%s.%s.%s" % (_b64(json.dumps(header, separators=(",", ":")).encode()),
                             _b64(json.dumps(payload, separators=(",", ":")).encode()),
                             _b64(sig))

    # A signed token's checks stop at the signature: the smallest claim set will do.
    tiny = {"jti": "x", "iss": d.p.env["MAF_ID"], "azp": "x", "nbf": 0, "exp": 0, "aud": "x"}
    forged = jws({"alg": "ES256"}, tiny, os.urandom(64))
    _refused(d, d.read(reader, cnt, query="tkns=" + forged), "bad signature")
    stranger = jws({"alg": "ES256"}, dict(tiny, iss="das.example"), os.urandom(64))
    _refused(d, d.read(reader, cnt, query="tkns=" + stranger), "unknown issuer")
    none = jws({"alg": "none", "typ": "JWT"}, claims, b"")
    _refused(d, d.read(reader, cnt, query="tkns=" + none), "bad alg")

    # Revoked: accepted once (Local-Token-ID assigned), then refused by the PDP.
    r = d.read(reader, cnt, query="tids=" + good["tkid"])
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    lti = r.get("ati").split(":", 1)[0]
    rv = d.p.tepctl("token", "revoke", good["tkid"], admin="authz")
    assert rv.rc == 0, str(rv)
    r = d.read(reader, cnt, query="ltids=" + lti)
    assert r.rsc == 4103, str(r)
    _refused(d, d.read(reader, cnt, query="tids=" + good["tkid"]), "unknown or revoked tid")
    audit = d.p.tepctl("audit", "--originator", "Cdevice01", "--last", "5", admin="authz")
    assert 'rule="token revoked"' in audit.out, audit.out
