#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_cse_request (fuzz/corpus/cse_request/seed-*.bin): one
CoAP datagram per oneM2M request shape tep-cse serves, numbered in tree order. Inputs found by fuzzing that
once crashed are added beside them as crash-<what>.bin and never removed.
Usage: python3 fuzz/make_corpus.py   (rewrites the seed-* files only)"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import coapmsg as c  # noqa: E402

OUT = os.path.join(HERE, "corpus", "cse_request")
CSE = "tep-cse"
# First token byte: bit 0 CoAPS bound to an AE, bit 1 CoAPS admin (fuzz_cse_request.c)
PLAIN_TOKEN, SECURE_TOKEN, ADMIN_TOKEN = b"\x00fz", b"\x01fz", b"\x02fz"


def req(code, path, fr="CAdmin", ty=None, body=None, query=(), cf=50, token=PLAIN_TOKEN,
        extra=()):
    opts = [(c.OPT_URI_PATH, seg.encode()) for seg in path.split("/") if seg]
    opts += [(15, q.encode()) for q in query]
    if fr is not None:
        opts.append((c.OPT_FR, fr.encode()))
    opts += [(c.OPT_RQI, b"rq-1"), (c.OPT_RVI, b"3")]
    if ty is not None:
        opts.append((c.OPT_TY, c.uint_bytes(ty)))
    payload = b""
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        opts.append((c.OPT_CONTENT_FORMAT, c.uint_bytes(cf)))
    return c.encode(code, opts + list(extra), payload, mid=1, token=token)


# {"m2m:cnt": {"rn": "cb"}} in CBOR (RFC 8949, written out: no CBOR library needed here)
CBOR_CNT = b"\xa1\x67m2m:cnt\xa1\x62rn\x62cb"
AE = {"m2m:ae": {"rn": "ae1", "api": "Nfuzz", "rr": False, "srv": ["3"]}}
SEEDS = {
    "create-ae-admin": req(c.POST, CSE, fr="Cae1", ty=2, body=AE),
    "create-ae-secure": req(c.POST, CSE, fr=None, ty=2, body=AE, token=SECURE_TOKEN),
    "create-ae-s": req(c.POST, CSE, fr="S", ty=2, body=AE),
    "create-cnt": req(c.POST, CSE + "/ae1", fr="Cae1", ty=3,
                      body={"m2m:cnt": {"rn": "cnt", "mni": 3, "mbs": 100, "lbl": ["a:b"]}}),
    "create-cin": req(c.POST, CSE + "/ae1/cnt", fr="Cae1", ty=4,
                      body={"m2m:cin": {"con": "21.5", "cnf": "text/plain:0"}}),
    "create-acp": req(c.POST, CSE + "/ae1", fr="Cae1", ty=1, body={"m2m:acp": {
        "rn": "acp", "pv": {"acr": [{"acor": ["all"], "acop": 2,
                                     "acco": [{"acip": {"ipv4": ["127.0.0.0/8"]}}]}]},
        "pvs": {"acr": [{"acor": ["Cae1"], "acop": 63}]}}}),
    "create-sub": req(c.POST, CSE + "/ae1/cnt", fr="Cae1", ty=23, body={"m2m:sub": {
        "rn": "sub", "nu": ["coap://127.0.0.1:9/n"], "enc": {"net": [3]}, "nct": 1}}),
    "create-grp": req(c.POST, CSE + "/ae1", fr="Cae1", ty=9, body={"m2m:grp": {
        "rn": "grp", "mt": 3, "mid": [CSE + "/ae1/cnt"], "mnm": 4}}),
    "retrieve-fopt": req(c.GET, CSE + "/ae1/grp/fopt", fr="Cae1"),
    "retrieve-csebase": req(c.GET, CSE),
    "retrieve-sp-relative": req(c.GET, "~/tep-cse/" + CSE + "/ae1"),
    "retrieve-absolute": req(c.GET, "_/tep.local/tep-cse/" + CSE),
    "retrieve-unstructured": req(c.GET, "cnt0001"),
    "discovery": req(c.GET, CSE, query=["fu=1", "ty=3", "lbl=a:b", "lim=2", "rcn=4"]),
    "update-cnt": req(c.PUT, CSE + "/ae1/cnt", fr="Cae1", body={"m2m:cnt": {"lbl": ["x"]}}),
    "delete-cnt": req(c.DELETE, CSE + "/ae1/cnt", fr="Cae1", token=SECURE_TOKEN),
    "notify": req(c.POST, CSE + "/ae1", fr="Cae1", body={"m2m:sgn": {"vrq": True,
                                                                      "sur": "/x"}}),
    "bad-json": req(c.POST, CSE, ty=3, body=b'{"m2m:cnt": {"rn": '),
    "bad-cf": req(c.POST, CSE, ty=3, body=b"<cnt/>", cf=41),
    "accept": req(c.GET, CSE, extra=[(17, c.uint_bytes(10001))]),
    "admin-coaps": req(c.GET, CSE + "/ae1", token=ADMIN_TOKEN, query=["rcn=6"]),
    # read by the CoAP glue's own reader (cse_coap_read): CBOR bodies, times, Accept
    "create-cnt-cbor": req(c.POST, CSE + "/ae1", fr="Cae1", ty=3, cf=60, body=CBOR_CNT,
                           extra=[(17, c.uint_bytes(60))]),
    "bad-cbor": req(c.POST, CSE + "/ae1", fr="Cae1", ty=3, cf=60, body=b"\xa1\x67m2m"),
    "rqet-passed": req(c.GET, CSE, extra=[(291, b"20200101T000000")]),
    "oet-ahead": req(c.GET, CSE, extra=[(299, b"600000")]),
    # ESPrim (cse_esprim.c): a receiver rand request, an object with an unknown kid
    "esprim-rand": req(c.POST, CSE, fr="Cae1", body={"m2m:seci": {"sit": 3}}),
    "esprim-object": req(c.POST, CSE, fr="Cae1", body={"m2m:seci": {"sit": 5, "epo": (
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiazFAbWVmIiwib3JpIjoibzEiLCJycmkiOi"
        "JzMSIsIm9ybyI6eyJlc3JpIjoibzEiLCJlc3J2IjoicjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
        "MDAwMCIsImVzcngiOiIyMDMwMDEwMVQwMDAwMDAiLCJlc2siOjEsImVzcGEiOlsxMl19fQ"
        "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA")}}),
    # CSE registration and routing (cse_remotecse.c, cse_route.c): a <remoteCSE>, then a
    # request for a CSE behind it (forwarded), one for an unknown CSE-ID (4004)
    "create-csr": req(c.POST, CSE, fr="/mn1", ty=16, body={"m2m:csr": {
        "cb": "/mn1/mn1", "rr": True, "srv": ["3"], "cst": 2, "poa": ["coap://127.0.0.1:9/"],
        "dcse": ["/mn2"], "csz": ["application/vnd.onem2m-res+json"]}}),
    "retrieve-forwarded": req(c.GET, "~/mn2/mn2/x", fr="Cae1"),
    "retrieve-unknown-cse": req(c.GET, "_/tep.local/nosuch/b", fr="Cae1"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.remove(os.path.join(OUT, name))
    # Numbered in tree order, so a replay builds the AE before its children.
    for i, (name, data) in enumerate(SEEDS.items()):
        with open(os.path.join(OUT, "seed-%02d-%s.bin" % (i, name)), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
