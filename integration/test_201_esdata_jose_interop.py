"""201: ESData at the JOSE layer against a library nobody here wrote (PyPI joserfc, pinned
in ./tep). TS-0003 8.5.3 (JWE "dir" with A256GCM, JWS HS256/ES256, nested
sign-then-encrypt), RFC 7515/7516/7518; keys of 10.3.6 derived on the Python side by
integration/tepkeys.py (not by tep's C code). Objects libtepae makes (`tep-device
esdata-protect`) decrypt and verify in joserfc; objects joserfc makes open in libtepae
(`esdata-open`), including an ES256 signature joserfc made with the device's own
certificate key, checked by libtepae against the tep CA. An object joserfc made with the
wrong key, or with "alg":"none", is refused."""

import base64
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jwe, jws
from joserfc.jwk import ECKey, OctKey

import tepkeys

B_ID = "/tep-cse/Capp201"
KID = "esdata-201"
VALUE = '{"temp":19.25,"unit":"C"}'


@pytest.fixture(scope="module")
def pair():
    return os.urandom(32)


@pytest.fixture
def dev(platform):
    """A device with a tep CA certificate (key, crt and trust anchor next to its state)."""
    d = platform.add_enrolee("dev201")
    r = d.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    d.crt, d.key, d.ca = r.get("CERT"), r.get("KEY"), r.get("TRUST_ANCHOR")
    return d


def _e2e(pair):
    return ["--key", pair.hex(), "--kid", KID, "--b-id", B_ID]


def _keys(pair):
    k = tepkeys.e2e_keys(pair, B_ID)
    return OctKey.import_key(k["att_conf"]), OctKey.import_key(k["att_auth"])


def _es256_registry():
    """joserfc refuses protected headers over 512 bytes by default; one x5c certificate
    makes about 900."""
    r = jws.JWSRegistry(algorithms=["ES256"])
    r.max_header_length = 4096
    return r


def _x5c_key(header):
    der = base64.b64decode(header["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    pem = cert.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return ECKey.import_key(pem), cert


def _protect(dev, cls, pair, *extra):
    r = dev.run("esdata-protect", cls, VALUE, *_e2e(pair), *extra)
    assert r.rc == 0, str(r)
    return r.get("OBJECT")


def test_tep_objects_open_in_joserfc(dev, pair):
    conf, auth = _keys(pair)
    # encryption only
    obj = jwe.decrypt_compact(_protect(dev, "enc", pair), conf)
    assert obj.plaintext.decode() == VALUE
    assert obj.protected == {"kid": KID, "alg": "dir", "enc": "A256GCM"}
    # signature only, HS256 with Ke2e_att_auth
    obj = jws.deserialize_compact(_protect(dev, "sign", pair), auth)
    assert obj.payload.decode() == VALUE and obj.protected["alg"] == "HS256"
    # signature only, ES256 with the certificate in x5c
    compact = _protect(dev, "sign", pair, "--sign-cert")
    header = json.loads(base64.urlsafe_b64decode(compact.split(".")[0] + "=="))
    eckey, cert = _x5c_key(header)
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.UniformResourceIdentifier) == \
        ["onem2m:" + dev.state_values()["enrolee_id"]]
    assert jws.deserialize_compact(compact, eckey, registry=_es256_registry()).payload.decode() == VALUE
    # nested: JWE (cty JOSE) around the ES256 JWS
    outer = jwe.decrypt_compact(_protect(dev, "sign-enc", pair, "--sign-cert"), conf)
    assert outer.protected["cty"] == "JOSE"
    inner = outer.plaintext.decode()
    header = json.loads(base64.urlsafe_b64decode(inner.split(".")[0] + "=="))
    assert jws.deserialize_compact(inner, _x5c_key(header)[0],
                                   registry=_es256_registry()).payload.decode() == VALUE
    # a wrong key fails in joserfc too
    with pytest.raises(Exception):
        jwe.decrypt_compact(_protect(dev, "enc", pair), OctKey.import_key(os.urandom(32)))


def _open(dev, compact, pair):
    return dev.run("esdata-open", compact, *_e2e(pair), "--ca", dev.ca)


def test_joserfc_objects_open_in_tep(dev, pair):
    conf, auth = _keys(pair)
    for enc in ("A256GCM", "A128GCM"):
        # A128GCM uses the first 16 bytes of Ke2e_att_conf (docs/keys.md item 19)
        key = conf if enc == "A256GCM" else OctKey.import_key(
            tepkeys.e2e_keys(pair, B_ID)["att_conf"][:16])
        c = jwe.encrypt_compact({"alg": "dir", "enc": enc, "kid": KID}, VALUE.encode(), key)
        r = _open(dev, c, pair)
        assert r.rc == 0 and r.get("VALUE") == VALUE and r.get("CLASS") == "enc", str(r)

    c = jws.serialize_compact({"alg": "HS256", "kid": KID}, VALUE.encode(), auth)
    r = _open(dev, c, pair)
    assert r.rc == 0 and r.get("VALUE") == VALUE and r.get("SIGNER") == KID, str(r)

    # ES256 by joserfc with the device's certificate key, the certificate in x5c; nested.
    with open(dev.key, "rb") as f:
        eckey = ECKey.import_key(f.read())
    with open(dev.crt, "rb") as f:
        der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)
    signed = jws.serialize_compact({"alg": "ES256", "x5c": [base64.b64encode(der).decode()]},
                                   VALUE.encode(), eckey, registry=_es256_registry())
    r = _open(dev, signed, pair)
    assert r.rc == 0 and r.get("SIGNER") == dev.state_values()["enrolee_id"], str(r)
    nested = jwe.encrypt_compact({"alg": "dir", "enc": "A256GCM", "kid": KID, "cty": "JOSE"},
                                 signed.encode(), conf)
    r = _open(dev, nested, pair)
    assert r.rc == 0 and r.get("CLASS") == "sign-enc" and r.get("VALUE") == VALUE, str(r)


def test_joserfc_objects_tep_must_refuse(dev, pair):
    conf, _ = _keys(pair)
    wrong = jwe.encrypt_compact({"alg": "dir", "enc": "A256GCM", "kid": KID}, VALUE.encode(),
                                OctKey.import_key(os.urandom(32)))
    r = _open(dev, wrong, pair)
    assert r.rc != 0 and r.get("VALUE") is None and "denied" in r.err.lower(), str(r)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    none = b64(b'{"alg":"none"}') + "." + b64(VALUE.encode()) + "."
    r = _open(dev, none, pair)
    assert r.rc != 0 and r.get("VALUE") is None, str(r)
    # a nested object whose inner JWS is HS256: 8.5.3.4 wants an ECDSA/RSA signature
    inner = jws.serialize_compact({"alg": "HS256", "kid": KID}, VALUE.encode(), _keys(pair)[1])
    nested = jwe.encrypt_compact({"alg": "dir", "enc": "A256GCM", "kid": KID, "cty": "JOSE"},
                                 inner.encode(), conf)
    r = _open(dev, nested, pair)
    assert r.rc != 0 and r.get("VALUE") is None, str(r)
