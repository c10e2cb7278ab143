"""Deterministic generator of (request, policy set) cases for the differential test of the
access decision algorithm. Every feature of TS-0003 7.1 appears: originator forms and
wildcards, SP domains, groups, roles, acop bits incl. discovery, acaf, acod (ty, spty,
chty), and contexts (actw scheduleEntry, acip v4/v6 CIDR, aclr country and circle),
with a share of malformed values. Cases are biased so that permits and denies are both
frequent: many acor entries and contexts are derived from the request itself.

    python3 generate.py SEED N > cases.jsonl
"""

import datetime
import json
import random
import sys

from reference import distance_m

SPS = ["tep.example", "other.example", "m2msp.org"]
CSES = ["/tep-cse", "/cse2", "/myCSE01", "/myCSE7"]
AES = ["Cabc", "C9886", "C98x1", "Sae1", "CAdmin", "Cdevice01", "C"]
ROLES = ["r1@roles.example", "1234abcd@role-issuer.com", "ops@roles.example"]
GROUPS = ["/tep-cse/grpOps", "grpAll", "//tep.example/tep-cse/grp2"]
OPS = [1, 2, 4, 8, 16, 32]
TYS = [1, 2, 3, 4, 5, 9, 13, 23, 28]
COUNTRIES = ["KR", "JP", "FR", "US", "de", "kr"]
SPTYS = ["1001", "1002", "org.example.cnd", "org.example.other"]
PEERS_V4 = ["10.1.2.3", "10.200.0.9", "192.168.1.77", "127.0.0.1", "203.0.113.5", "100.64.0.1"]
PEERS_V6 = ["fd00::1", "fd12:3456:789a::42", "2001:db8::1", "2001:db8:8000::5", "::1",
            "fe80::1:2"]
FIELD_RANGES = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (2000, 9999)]
T_MIN = 946684800       # 2000-01-01
T_MAX = 4102444799      # 2099-12-31


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq)

    # ---- identities ------------------------------------------------------------------

    def identity(self):
        """(sp, cse, ae or None) of some entity."""
        return self.pick(SPS), self.pick(CSES), (self.pick(AES) if self.chance(0.85) else None)

    def form(self, ident, home):
        """A textual ID in a random form; home = (sp, cse) of the hosting CSE."""
        sp, cse, ae = ident
        local = (sp, cse) == home
        if ae is not None and ae.startswith("S") and self.chance(0.5):
            # TS-0001 7.2: an S-stem is SP-relative "/S..."; bare in its own SP
            return self.pick(["/" + ae, "//" + sp + "/" + ae] + ([ae] if sp == home[0] else []))
        path = cse + ("/" + ae if ae else "")
        choices = ["//" + sp + path]
        if sp == home[0]:
            choices.append(path)
        if local and ae:
            choices.append(ae)
        return self.pick(choices)

    def wildcard(self, text):
        """Replace a run inside one or more segments by '*' (never across '/')."""
        segs = text.split("/")
        for _ in range(self.r.randint(1, 2)):
            k = self.r.randrange(len(segs))
            s = segs[k]
            if s == "":
                continue
            a = self.r.randrange(len(s) + 1)
            b = self.r.randrange(a, len(s) + 1)
            segs[k] = s[:a] + "*" + s[b:]
        return "/".join(segs)

    def acor_entry(self, rq, origin_ident, home):
        x = self.r.random()
        if x < 0.06:
            return "all"
        if x < 0.12:
            return self.pick(ROLES)
        if x < 0.18:
            return self.pick(GROUPS + ["/tep-cse/grp*"])
        if x < 0.24:
            return "//" + self.pick(SPS + ["tep.*", ""])
        if x < 0.30:
            return self.pick(["*", "C*", "/*/C*", "//*/*/C98*", "/S*", "C9/886", "", "//*"])
        ident = origin_ident if self.chance(0.6) else self.identity()
        text = self.form(ident, home)
        if self.chance(0.4):
            text = self.wildcard(text)
        return text

    # ---- contexts --------------------------------------------------------------------

    def field(self, value, lo, hi):
        x = self.r.random()
        if x < 0.35:
            return "*"
        if x < 0.50:
            return str(self.pick([value, value, lo, hi, max(lo, value - 1)]))
        if x < 0.65:
            a = self.r.randint(lo, value)
            b = self.r.randint(value, hi) if self.chance(0.7) else self.r.randint(a, hi)
            return "%d-%d" % (a, b)
        if x < 0.75:
            vals = sorted(set(self.r.randint(lo, hi) for _ in range(3)) | ({value} if self.chance(0.5) else set()))
            return ",".join(str(v) for v in vals)
        if x < 0.85:
            return "*/%d" % self.r.randint(1, 7)
        if x < 0.94:
            a = self.r.randint(lo, hi)
            return "%d-%d/%d" % (a, self.r.randint(a, hi), self.r.randint(1, 5))
        return self.pick(["%d" % (hi + 1), "%d-%d" % (hi, lo), "5/2", "1,,2", "*/0", "x",
                          "-3", "%05d" % value, "*-2", "3,"])

    def schedule(self, now):
        t = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
        actual = [t.second, t.minute, t.hour, t.day, t.month, (t.weekday() + 1) % 7, t.year]
        fields = [self.field(v, lo, hi) for v, (lo, hi) in zip(actual, FIELD_RANGES)]
        if self.chance(0.03):
            fields = fields[:6]                           # a 6-field crontab: malformed
        sep = " " if self.chance(0.9) else self.pick(["  ", "\t", " \t "])
        entry = sep.join(fields)
        return (" " + entry) if self.chance(0.03) else entry

    def cidr(self, peer, v6):
        if peer is not None and self.chance(0.6) and (":" in peer) == v6 and "." not in peer[2:5]:
            base = peer
        else:
            base = self.pick(PEERS_V6 if v6 else PEERS_V4)
        bits = 128 if v6 else 32
        x = self.r.random()
        if x < 0.08:
            return self.pick(["10.0.0.0/33", "10.0.0/8", "fd00::/129", "10.0.0.0/", "010.0.0.0/8",
                              "fd00::/8" if not v6 else "10.0.0.0/8", "10.0.0.0/8x", 7])
        if x < 0.2:
            return base
        return "%s/%d" % (base, self.r.randint(0, bits))

    def acip(self, rq):
        out = {}
        peer = rq.get("ip")
        if peer is not None and peer.startswith("::ffff:"):
            peer = peer[7:]
        if self.chance(0.75):
            out["ipv4"] = [self.cidr(peer, False) for _ in range(self.r.randint(0, 3))]
        if self.chance(0.6):
            out["ipv6"] = [self.cidr(peer, True) for _ in range(self.r.randint(0, 3))]
        if self.chance(0.03):
            out["ipv4"] = "10.0.0.0/8"
        return out

    def circle(self, rq):
        pt = rq.get("pt")
        lat = self.r.uniform(-89, 89)
        lon = self.r.uniform(-179, 179)
        if pt is not None and self.chance(0.6):
            lat, lon = pt[0] + self.r.uniform(-2, 2), pt[1] + self.r.uniform(-2, 2)
            lat, lon = max(-90, min(90, lat)), max(-180, min(180, lon))
        if pt is None:
            return [round(lat, 4), round(lon, 4), self.r.randint(0, 500000)]
        lat, lon = round(lat, 4), round(lon, 4)
        d = distance_m(lat, lon, pt[0], pt[1])
        # keep well away from the boundary: both sides must agree on a clear answer
        radius = d * self.pick([self.r.uniform(0.2, 0.98), self.r.uniform(1.02, 3.0)])
        if d == 0.0:
            radius = self.pick([0, 1000])
        return [lat, lon, round(radius, 1) if radius > 10 else radius]

    def aclr(self, rq):
        x = self.r.random()
        if x < 0.45:
            return {"accc": self.r.sample(COUNTRIES, self.r.randint(0, 3))}
        if x < 0.9:
            return {"accr": self.circle(rq)}
        return self.pick([{}, {"accc": ["KR"], "accr": [0, 0, 1e7]}, {"accr": [95, 0, 10]},
                          {"accr": [1, 2]}, {"accc": "KR"}, {"accr": [0, 0, -1]}])

    def context(self, rq):
        ctx = {}
        if self.chance(0.5):
            ctx["actw"] = [self.schedule(rq["now"]) for _ in range(self.r.randint(0, 2))]
        if self.chance(0.45):
            ctx["acip"] = self.acip(rq)
        if self.chance(0.35):
            ctx["aclr"] = self.aclr(rq)
        if self.chance(0.02):
            ctx = self.pick([[], "x", {"actw": "* * * * * * *"}, {"actw": None}, {"acip": None}])
        return ctx

    # ---- rules and policies -------------------------------------------------------------

    def acod(self, rq):
        od = {"chty": [rq["nty"]] if self.chance(0.5) else self.r.sample(TYS, 2)}
        if self.chance(0.4):
            od["ty"] = rq["ty"] if self.chance(0.6) else self.pick(TYS)
        if self.chance(0.2):
            spty = rq.get("spty") if self.chance(0.6) and rq.get("spty") else self.pick(SPTYS)
            od["spty"] = int(spty) if spty.isdigit() and self.chance(0.5) else spty
        if self.chance(0.03):
            od = self.pick([{"ty": 3}, {"chty": 4}, {"chty": [4], "ty": "3"}, [4],
                            {"chty": [4], "spty": [1]}, {"chty": [True]}])
        return od

    def acop(self, rq):
        x = self.r.random()
        if x < 0.45:
            return rq["op"] | self.r.randint(0, 63)
        if x < 0.97:
            return self.r.randint(0, 63)
        return self.pick([64, -1, "63", 2.0, True])

    def acr(self, rq, origin_ident, home):
        acr = {"acor": [self.acor_entry(rq, origin_ident, home)
                        for _ in range(self.r.randint(1, 3))],
               "acop": self.acop(rq)}
        if self.chance(0.3):
            acr["acaf"] = self.pick([True, False, True, "true", 1])
        if self.chance(0.45):
            acr["acco"] = [self.context(rq) for _ in range(self.r.randint(0, 2))]
        if self.chance(0.35):
            acr["acod"] = [self.acod(rq) for _ in range(self.r.randint(0, 2))]
        if self.chance(0.02):
            acr = self.pick([{"acop": 63}, {"acor": "all", "acop": 63}, {"acor": [1], "acop": 3},
                             "acr", {"acor": ["all"], "acop": 63, "acco": {}},
                             {"acor": ["all"], "acop": 63, "acod": None},
                             {"acor": ["all"], "acop": 63, "acaf": None}])
        return acr

    def privileges(self, rq, origin_ident, home):
        if self.chance(0.02):
            return self.pick([None, [], {"acr": {}}, "pv"])
        return {"acr": [self.acr(rq, origin_ident, home) for _ in range(self.r.randint(0, 3))]}

    def acp(self, rq, origin_ident, home):
        acp = {}
        if self.chance(0.9):
            acp["pv"] = self.privileges(rq, origin_ident, home)
        if self.chance(0.7):
            acp["pvs"] = self.privileges(rq, origin_ident, home)
        if self.chance(0.2):
            acp = {"m2m:acp": acp}
        return acp

    # ---- requests ---------------------------------------------------------------------

    def request(self):
        home = ("tep.example", "/tep-cse")
        origin_ident = self.identity() if self.chance(0.5) else (home[0], home[1], self.pick(AES))
        op = self.pick(OPS + [1, 2])
        rq = {"fr": self.form(origin_ident, home) if self.chance(0.97) else
              self.pick(["", "C9/801", "//tep.example//Cabc"]),
              "op": op, "ty": self.pick(TYS), "authn": self.chance(0.6),
              "now": self.r.randint(T_MIN, T_MAX)}
        rq["nty"] = self.pick(TYS) if op == 1 else 0
        if self.chance(0.85):
            rq["csi"] = home[1] if self.chance(0.9) else "tep-cse"
            rq["spi"] = self.pick(["//" + home[0], home[0]])
        x = self.r.random()
        if x < 0.45:
            rq["ip"] = self.pick(PEERS_V4)
        elif x < 0.8:
            rq["ip"] = self.pick(PEERS_V6)
        elif x < 0.9:
            rq["ip"] = "::ffff:" + self.pick(PEERS_V4)
        if self.chance(0.3):
            rq["rids"] = self.r.sample(ROLES, self.r.randint(1, 2))
        if self.chance(0.3):
            rq["grps"] = self.r.sample(GROUPS, self.r.randint(1, 2))
        if self.chance(0.3):
            rq["spty"] = self.pick(SPTYS)
        if self.chance(0.5):
            rq["cc"] = self.pick(COUNTRIES)
        if self.chance(0.5):
            rq["pt"] = [round(self.r.uniform(-80, 80), 5), round(self.r.uniform(-179, 179), 5)]
        return rq, origin_ident, home

    def case(self):
        rq, origin_ident, home = self.request()
        acps = [self.acp(rq, origin_ident, home) for _ in range(self.r.randint(0, 3))]
        if self.chance(0.01):
            acps.append(self.pick(["acp", None, 5]))
        return {"rq": rq, "acps": acps}


def cases(seed, n):
    g = Gen(seed)
    for _ in range(n):
        yield g.case()


def main():
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    out = sys.stdout
    for c in cases(seed, n):
        out.write(json.dumps(c, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
