"""83: tep-authz's MAF endpoint reads a PUT or DELETE Uri-Path within its bytes (TS-0003
8.8.2.5/8.8.2.9 paths maf/clients/<id>, maf/keys/<id>). Paths shorter than "maf/" or
otherwise malformed (which once made item_path() read uninitialised stack) are answered
4.04 in a Km session (4.05 on the registration resource maf/keys itself), and the same session's client still gets its token."""

import pytest

from test_41_dynauth_tokens import _setup, dyn  # noqa: F401 (fixture)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_short_and_odd_paths_are_404_and_the_maf_keeps_serving(dyn, method):  # noqa: F811
    d = dyn()
    _, reader, cnt = _setup(d)
    code, _ = d.ask_token(reader, ["/" + cnt])  # the Km is known at tep-authz
    assert code == "2.01"
    # maf/keys is the registration resource: no PUT or DELETE there (4.05, libcoap)
    for path, want in [("m", "4.04"), ("ma", "4.04"), ("maf", "4.04"), ("maf/keys", "4.05"),
                       ("maf//x", "4.04"), ("maf/keys/a/b", "4.04"), ("mab/keys/x", "4.04")]:
        r = d.probe(d.km(reader), d.authz_port, method, path,
                    body="{}" if method == "PUT" else None)
        assert r.get("coap") == want, "%s %s: %s\n%s" % (method, path, r, d.p.logs())
    code, ans = d.ask_token(reader, ["/" + cnt])
    assert code == "2.01", ans
