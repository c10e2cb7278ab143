"""An independent reference of the oneM2M access decision algorithm (TS-0003 7.1.4, 7.1.5),
written from the specification text, not from tep's C evaluator:

  res_acrs   = OR over every acr of every applicable privileges set
  res_acr    = res_authn AND res_origs AND res_ops AND res_ctxts AND res_objd
  res_ctxts  = OR over acco elements of (res_time AND res_ip AND res_loc)   (no acco: TRUE)
  res_objd   = CREATE only: OR over acod elements of (ty AND spty AND chty)

Inputs follow TS-0004 short names (acr, acor, acop, acco/actw/acip/aclr, acaf, acod)
and the 7-field scheduleEntry of TS-0004 7.4.9.1. Where the specification leaves a
choice, the choice is the one written in docs/access-control.md ("Choices"); each one is
marked CHOICE below. Anything that cannot be decided is FALSE for the part it belongs
to (7.1.4: indeterminate is Deny).

A request is a dict:
  fr    originator (From)               op    one acop bit (1 C, 2 R, 4 U, 8 D, 16 N, 32 Disc)
  ty    target resource type            nty   type being created (CREATE)
  authn rq_authn                        ip    peer address (optional)
  rids  role IDs                        grps  <group> IDs the originator is a member of
  now   rq_time, Unix seconds           csi   hosting CSE-ID ("/tep-cse"), spi SP-ID
  spty  target specialization           cc    country code of rq_loc, pt [lat, lon]
"""

import datetime
import functools
import ipaddress
import math
import re

ALL_OPS = 63
TY_ACP = 1


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---- accessControlOriginators (7.1.3, tables 7.1.3-1 and 7.1.3-2) ------------------

def _absolute(ident, rq):
    """Absolute form //SP/CSE/..., CHOICE: only when the request names CSE-ID and SP-ID."""
    csi, spi = rq.get("csi") or "", rq.get("spi") or ""
    if not csi or not spi or ident.startswith("//"):
        return ident
    sp = spi[2:] if spi.startswith("//") else spi
    if ident.startswith("/"):
        return "//" + sp + ident                      # SP-relative
    if ident.startswith("S"):
        # TS-0001 7.2 table 7.2-1: an AE-ID-Stem starting with 'S' is unique in the SP
        # domain; its SP-relative form is "/" + stem, not under the registrar CSE.
        return "//" + sp + "/" + ident
    cse = csi if csi.startswith("/") else "/" + csi
    return "//" + sp + cse + "/" + ident              # CSE-relative


def _wildcard_to_regex(segment):
    # "*" matches any run of characters inside one segment (no "/" can occur here).
    return "".join(".*" if part == "*" else re.escape(part)
                   for part in re.split(r"(\*)", segment))


def _id_matches(pattern, ident):
    """The scope of "*" is terminated by a following "/" (7.1.3)."""
    psegs, isegs = pattern.split("/"), ident.split("/")
    if len(psegs) != len(isegs):
        return False
    return all(re.fullmatch(_wildcard_to_regex(p), s, re.DOTALL)
               for p, s in zip(psegs, isegs))


def res_origs(acor, rq):
    fr = rq.get("fr", "")
    for entry in acor:
        if entry == "all":
            return True
        # Role IDs and group IDs: literal, wildcards do not apply.
        if entry in (rq.get("rids") or []) or entry in (rq.get("grps") or []):
            return True
        if fr == "":
            continue
        origin = _absolute(fr, rq)
        if entry.startswith("//") and "/" not in entry[2:]:
            # an SP domain name: every ID of that SP (literal)
            parts = origin.split("/")
            if origin.startswith("//") and len(parts) >= 3 and parts[2] == entry[2:]:
                return True
            continue
        if _id_matches(_absolute(entry, rq), origin):
            return True
    return False


# ---- accessControlWindow: scheduleEntry (TS-0004 7.4.9.1) ----------------------------

_FIELDS = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (2000, 9999)]
_NUM = r"[0-9]{1,4}"
_ELEMENT = re.compile(r"(?:(\*)(?:/(%s))?|(%s)(?:-(%s)(?:/(%s))?)?)" % (_NUM, _NUM, _NUM, _NUM))


@functools.lru_cache(maxsize=8192)
def _expand_field(text, lo, hi):
    """The set of values a field allows, or None when it is malformed."""
    allowed = set()
    for element in text.split(","):
        m = _ELEMENT.fullmatch(element)
        if not m:
            return None
        star, star_step, first, last, step = m.groups()
        if star:
            start, end, inc = lo, hi, int(star_step) if star_step else 1
        else:
            start = int(first)
            end = int(last) if last is not None else start
            inc = int(step) if step else 1
            if start < lo or end > hi or start > end:
                return None
        if inc < 1:
            return None
        allowed.update(range(start, end + 1, inc))
    return frozenset(allowed)


def schedule_matches(entry, now):
    """True/False, or None for a malformed entry."""
    if not isinstance(entry, str):
        return None
    fields = [f for f in re.split(r"[ \t]+", entry.strip(" \t")) if f != ""]
    if len(fields) != 7:
        return None
    t = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    actual = [t.second, t.minute, t.hour, t.day, t.month, (t.weekday() + 1) % 7, t.year]
    verdict = True
    for text, (lo, hi), value in zip(fields, _FIELDS, actual):
        allowed = _expand_field(text, lo, hi)
        if allowed is None:
            return None
        verdict = verdict and value in allowed
    return verdict


_ABSENT = object()


def _res_time(actw, rq):
    if actw is _ABSENT:
        return True
    if not isinstance(actw, list):
        return False
    if not actw:
        return True                                   # CHOICE: [] = no time window
    return any(schedule_matches(e, rq.get("now", 0)) is True for e in actw)


# ---- accessControlIpAddresses -----------------------------------------------------------

def _peer(text):
    if not isinstance(text, str) or "%" in text:
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _network(text, version):
    if not isinstance(text, str) or "%" in text:
        return None
    addr_text, _, prefix = text.partition("/")
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    try:
        addr = cls(addr_text)
    except ValueError:
        return None
    bits = addr.max_prefixlen
    if "/" in text:
        if not re.fullmatch(r"[0-9]{1,3}", prefix) or int(prefix) > bits:
            return None
        bits = int(prefix)
    return ipaddress.ip_network((addr, bits), strict=False)   # CHOICE: host bits ignored


def _res_ip(acip, rq):
    if not isinstance(acip, dict):
        return False
    peer = _peer(rq.get("ip"))
    if peer is None:
        return False                                  # no address: cannot be checked
    for key, version in (("ipv4", 4), ("ipv6", 6)):
        entries = acip.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return False
        for e in entries:
            net = _network(e, version)
            if net is not None and peer.version == version and peer in net:
                return True
    return False


# ---- accessControlLocationRegion (Annex F, TS-0004 m2m:locationRegion) ---------------

EARTH_RADIUS_M = 6371008.8


def distance_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _res_loc(aclr, rq):
    if not isinstance(aclr, dict) or (("accc" in aclr) == ("accr" in aclr)):
        return False                                  # xs:choice: exactly one
    if "accc" in aclr:
        cc = rq.get("cc")
        codes = aclr["accc"]
        if not isinstance(codes, list) or not isinstance(cc, str):
            return False
        return any(isinstance(c, str) and c.upper() == cc.upper() for c in codes)
    circle, pt = aclr["accr"], rq.get("pt")
    if not isinstance(circle, list) or len(circle) != 3 or not all(map(_is_num, circle)):
        return False
    if pt is None:
        return False
    lat, lon, radius = circle
    if abs(lat) > 90 or abs(lon) > 180 or not radius >= 0 or abs(pt[0]) > 90 or abs(pt[1]) > 180:
        return False
    return distance_m(lat, lon, pt[0], pt[1]) <= radius


def res_ctxts(acco, rq):
    if acco is None or acco == []:
        return True
    if not isinstance(acco, list):
        return False
    for ctx in acco:
        if not isinstance(ctx, dict):
            continue
        if (_res_time(ctx.get("actw", _ABSENT), rq)
                and ("acip" not in ctx or _res_ip(ctx["acip"], rq))
                and ("aclr" not in ctx or _res_loc(ctx["aclr"], rq))):
            return True
    return False


# ---- accessControlObjectDetails ----------------------------------------------------------

def _objdetail(od, rq):
    if "ty" in od and od["ty"] != rq.get("ty", 0):
        return False
    if "spty" in od:
        spty = rq.get("spty")
        if spty is None or str(od["spty"]) != spty:
            return False
    return rq.get("nty", 0) in od["chty"]


def res_objd(acod, rq):
    if rq["op"] != 1 or not acod:
        return True
    return any(_objdetail(od, rq) for od in acod)


# ---- one rule, the decision ------------------------------------------------------------

def _well_formed(acr):
    """CHOICE: a rule whose own fields have the wrong type cannot be evaluated (FALSE)."""
    if not isinstance(acr, dict):
        return False
    acor, acop = acr.get("acor"), acr.get("acop")
    if not isinstance(acor, list) or not all(isinstance(a, str) for a in acor):
        return False
    if not _is_int(acop) or not 0 <= acop <= ALL_OPS:
        return False
    if "acaf" in acr and not isinstance(acr["acaf"], bool):
        return False
    if "acco" in acr and not isinstance(acr["acco"], list):
        return False
    if "acod" not in acr:
        return True
    acod = acr["acod"]
    if not isinstance(acod, list):
        return False
    for od in acod:
        if not isinstance(od, dict):
            return False
        chty = od.get("chty")
        if not isinstance(chty, list) or not all(_is_int(c) for c in chty):
            return False
        if "ty" in od and not _is_int(od["ty"]):
            return False
        if "spty" in od and not (isinstance(od["spty"], str) or _is_int(od["spty"])):
            return False
    return True


def res_acr(acr, rq):
    if not _well_formed(acr):
        return False
    res_authn = rq.get("authn", False) or not acr.get("acaf", False)
    res_ops = bool(acr["acop"] & rq["op"])
    return (res_authn and res_ops and res_origs(acr["acor"], rq)
            and res_objd(acr.get("acod"), rq) and res_ctxts(acr.get("acco"), rq))


def decide(rq, acps):
    """acps: <accessControlPolicy> representations. Returns "permit acp[i].acr[j]" for the
    first rule that permits (evaluation may stop there, 7.1.5), else "deny"."""
    attr = "pvs" if rq.get("ty") == TY_ACP else "pv"
    for i, acp in enumerate(acps):
        if isinstance(acp, dict) and "m2m:acp" in acp:
            acp = acp["m2m:acp"]
        privileges = acp.get(attr) if isinstance(acp, dict) else None
        rules = privileges.get("acr") if isinstance(privileges, dict) else None
        if not isinstance(rules, list):
            continue
        for j, acr in enumerate(rules):
            if res_acr(acr, rq):
                return "permit acp[%d].acr[%d]" % (i, j)
    return "deny"
