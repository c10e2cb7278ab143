"""02: a device holding the wrong Kpm is refused at the bootstrap handshake, and the
enroller goes on serving correct devices. TS-0003 8.3.2.1 (the RSPF is a DTLS-PSK
handshake keyed by Kpm: possession of Kpm is the enrolee's authentication)."""

import re


def _corrupt_kpm(prov_path):
    with open(prov_path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        m = re.match(r"(\s*kpm\s*=\s*)([0-9a-fA-F]{64})\s*$", line)
        if m:
            flipped = "%x" % (int(m.group(2)[0], 16) ^ 1)
            line = m.group(1) + flipped + m.group(2)[1:]
        out.append(line)
    assert out != lines, "no kpm line in the provisioning file"
    with open(prov_path, "w") as f:
        f.write("\n".join(out) + "\n")


def test_wrong_kpm_is_refused_and_enroller_still_serves(platform):
    bad = platform.add_enrolee("device01")
    _corrupt_kpm(bad.prov)

    r = bad.run("enrol")
    assert r.rc == 2, str(r)
    platform["enroller"].wait_log(r"event=handshake_failed .*kpm_id=device01", 5)
    assert platform["enroller"].alive()

    good = platform.add_enrolee("device02")
    r = good.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert good.state_values()["enrolee_id"] == "Cdevice02"
