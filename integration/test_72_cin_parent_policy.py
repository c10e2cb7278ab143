"""72: a <contentInstance> has no accessControlPolicyIDs; its parent container's policies
decide every operation on it, whoever created it, in both decision modes. The attack:
tep-cse checked the instance's creator instead, so a reader the container's ACP lets
retrieve got 4103 on la/ol/any instance written by another AE, while the writer could
read back (and delete) what the policy did not let it.
TS-0001 V3.36 9.6.7 ("The <contentInstance> resource inherits the same access control
policies of the parent <container> resource, and does not have its own
accessControlPolicyIDs attribute"), 9.6.1.3.2 (a resource type without acpi is governed
by its parent's policies); TS-0004 V3.32 7.4.7 (la, ol); docs/access-control.md "Who
decides what"."""

import pytest

from onem2m_client import TY_ACP, TY_CIN, TY_CNT

ALL_OPS, CREATE, RETRIEVE, DELETE, DISCOVERY = 63, 1, 2, 8, 32


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def feed(cse):
    """A container of the owner whose ACP lets the writer only create, the reader only
    retrieve; two instances written by the writer. (owner, writer, reader, stranger,
    container path, [instance paths])."""
    owner, path, _ = cse.ae("Ccin-owner", "cin-owner")
    writer, _, _ = cse.ae("Ccin-writer", "cin-writer")
    reader, _, _ = cse.ae("Ccin-reader", "cin-reader")
    stranger, _, _ = cse.ae("Ccin-stranger", "cin-stranger")
    acp = owner.create(path, TY_ACP, {
        "rn": "acp-feed",
        "pv": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS},
                       {"acor": [writer.originator], "acop": CREATE},
                       {"acor": [reader.originator], "acop": RETRIEVE | DISCOVERY}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert acp.rsc == 2001, str(acp)
    cnt = owner.create(path, TY_CNT, {"rn": "feed", "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert cnt.rsc == 2001, str(cnt)
    cins = []
    for i in range(2):
        r = writer.create(cnt.location, TY_CIN, {"rn": "v%d" % i, "con": "reading-%d" % i})
        assert r.rsc == 2001, str(r)
        cins.append(r.location)
    return owner, writer, reader, stranger, cnt.location, cins


def test_reader_reads_every_instance(feed):
    """The reader (Retrieve on the container) reads la, ol and each instance by path,
    though the writer created them."""
    _, _, reader, _, cnt, cins = feed
    la, ol = reader.retrieve(cnt + "/la"), reader.retrieve(cnt + "/ol")
    assert la.rsc == 2000 and la.resource(TY_CIN)["con"] == "reading-1", str(la)
    assert ol.rsc == 2000 and ol.resource(TY_CIN)["con"] == "reading-0", str(ol)
    for i, path in enumerate(cins):
        r = reader.retrieve(path)
        assert r.rsc == 2000 and r.resource(TY_CIN)["con"] == "reading-%d" % i, str(r)


def test_writer_gets_only_what_the_container_grants(feed):
    """The writer created the instances but the container's ACP gives it Create only: it
    can neither read them back nor delete them (4103)."""
    _, writer, _, _, cnt, cins = feed
    for r in (writer.retrieve(cnt + "/la"), writer.retrieve(cins[0]), writer.delete(cins[0])):
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)


def test_stranger_and_reader_limits(feed):
    """A stranger reads nothing; the reader may not delete an instance (no Delete)."""
    owner, _, reader, stranger, cnt, cins = feed
    for r in (stranger.retrieve(cnt + "/la"), stranger.retrieve(cins[1]),
              stranger.delete(cins[1]), reader.delete(cins[1])):
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert owner.retrieve(cins[1]).rsc == 2000


def test_discovery_lists_instances_for_the_reader(feed):
    """Discovery under the container (TS-0004 7.3.3.17: Discover privilege per resource
    found) lists the writer's instances to the reader."""
    _, _, reader, _, cnt, cins = feed
    r = reader.retrieve(cnt, query={"fu": 1, "ty": TY_CIN})
    assert r.rsc == 2000, str(r)
    found = r.json["m2m:uril"]
    assert len(found) == 2 and all(any(c.endswith(f.split("/")[-1]) for c in cins)
                                   for f in found), found


def test_cin_has_no_acpi(cse, feed):
    """An acpi given for a contentInstance is 4000 (TS-0001 9.6.7: not an attribute)."""
    owner, _, _, _, cnt, _ = feed
    acp_ri = owner.retrieve(cnt).resource(TY_CNT)["acpi"][0]
    r = owner.create(cnt, TY_CIN, {"con": "x", "acpi": [acp_ri]})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_container_without_acpi_its_creator_decides(cse):
    """A container with no acpi: the default policy gives its creator every instance,
    including one the admin wrote into it; another AE reads none."""
    owner, path, _ = cse.ae("Ccin-solo", "cin-solo")
    other, _, _ = cse.ae("Ccin-solo-other", "cin-solo-other")
    cnt = owner.create(path, TY_CNT, {"rn": "solo"}).location
    r = cse.admin.create(cnt, TY_CIN, {"con": "by admin"})
    assert r.rsc == 2001, str(r)
    got = owner.retrieve(cnt + "/la")
    assert got.rsc == 2000 and got.resource(TY_CIN)["con"] == "by admin", str(got)
    assert (other.retrieve(cnt + "/la").rsc, other.retrieve(r.location).rsc) == (4103, 4103)
