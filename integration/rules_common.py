"""Shared steps of the resource-rules modules (test_311..319): a CREATE or UPDATE that
must be refused with 4000 and a named reason, and must not have written anything."""


def refused(r, reason, rsc=4000, code="4.00"):
    names = {4000: "BAD_REQUEST", 4005: "OPERATION_NOT_ALLOWED"}
    assert (r.rsc, r.code) == (rsc, code), str(r)
    assert r.dbg == names[rsc] + ": " + reason, str(r)


def create_refused(c, parent, ty, attrs, reason, admin):
    """CREATE attrs (with an rn of its own) under parent: 4000 reason, and nothing there."""
    r = c.create(parent, ty, attrs)
    refused(r, reason)
    rn = attrs.get("rn")
    if isinstance(rn, str) and rn.isascii() and rn.isalnum() and len(rn) <= 255:
        assert admin.retrieve(parent + "/" + attrs["rn"]).rsc == 4004, "refused but created"
    return r


def update_refused(c, path, ty, attrs, reason, admin, wrapper):
    """UPDATE attrs: 4000 reason, and the resource unchanged (same lt, same attributes)."""
    before = admin.retrieve(path).resource(ty)
    r = c.update(path, ty, attrs)
    refused(r, reason)
    after = admin.retrieve(path).resource(ty)
    assert after == before, (before, after)
    return r
