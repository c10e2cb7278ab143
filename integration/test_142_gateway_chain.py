"""142: three CSEs in a registration chain (IN-CSE <- /mn1 <- /mn2), each over its own
DTLS-PSK security association. TS-0004 V3.32 7.4.4.2.1 (a registrar registered to
another CSE adds its new registree to its descendantCSEs there), TS-0001 V3.36 8.2.1.1
(the IN-CSE routes to /mn2 through /mn1 by descendantCSEs), TS-0004 7.4.4.2.1 Receiver
(From must be the CSE-ID the credential is bound to: an MN-CSE claiming another CSE-ID
is refused, 4106), TS-0003 8.2.2.x (a CSE-originated request, a notification, goes
to a registered CSE over its security association), TS-0001 10.2.2.6 (re-registration
after the registrar restarts)."""


import pytest

from harness import gateway_platform, until, wait_registered
from onem2m_client import OneM2MClient


@pytest.fixture(scope="module")
def chain():
    p, mns = gateway_platform(("mn1", "mn2"), parents={"mn2": "mn1"})
    try:
        app = p.enrolled_device("app1")
        admin = OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"])
        yield p, mns["mn1"], mns["mn2"], app, admin
        admin.close()
        mns["mn2"].stop()
        mns["mn1"].stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)




def test_descendant_announced_to_the_in_cse(chain):
    p, mn1, mn2, app, admin = chain
    csr = lambda: admin.retrieve("tep-cse/mn1").resource(16)
    assert until(lambda: csr()["dcse"] == ["/mn2"]), csr()
    with OneM2MClient("127.0.0.1", int(mn1.coap.rsplit(":", 1)[1]), "CAdmin") as c:
        r = c.retrieve("mn1/mn2")
        assert r.rsc == 2000 and r.resource(16)["csi"] == "/mn2", str(r)


def test_in_application_reaches_the_second_gateway(chain):
    """IN-CSE -> /mn1 -> /mn2: the hosting CSE /mn2 answers (its CSEBase is closed to
    the application: 4103 decided there)."""
    p, mn1, mn2, app, admin = chain
    r = app.run("retrieve", "~/mn2/mn2")
    assert r.rsc == 4103, "%s\n%s\n%s" % (r, mn1.tail(), mn2.tail())
    assert "originator=/tep-cse/Capp1" in mn2.log() and "hop=/mn2" in mn1.log(), mn2.tail()
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        r = c.retrieve("~/mn2/mn2")  # /tep-cse/CAdmin is not mn2's admin either
        assert r.rsc == 4103, str(r)


def test_notification_to_a_registered_cse_goes_over_its_association(chain):
    p, mn1, mn2, app, admin = chain
    assert admin.create("tep-cse", 3, {"rn": "box"}).rsc == 2001
    r = admin.create("tep-cse/box", 23, {"rn": "tomn1", "nu": ["/mn1"], "enc": {"net": [3]}})
    assert r.rsc == 2001, "%s\n%s" % (r, mn1.tail())
    assert admin.create("tep-cse/box", 4, {"con": "x"}).rsc == 2001
    assert until(lambda: mn1.log().count("op=notify path=~/mn1/mn1 originator=/tep-cse "
                                          "secure=1 rsc=2000") >= 2), mn1.tail()


def test_mn_cse_claiming_another_cse_id_is_4106(chain):
    """An MN-CSE enrolled as /mn3 but configured as /evil: the IN-CSE binds its session
    to /mn3, so a registration From /evil is refused."""
    p, mn1, mn2, app, admin = chain
    p.add_enrolee("mn3", "--ae-id", "/mn3")
    evil = p.add_cse("evil", "/evil", registrar=p.mn_registrar("mn3"))
    evil.start()
    try:
        evil.wait_log("event=registration_refused rsc=4106", 10)
        assert "reason=from_mismatch" in p["cse"].log(), p["cse"].tail()
        assert admin.retrieve("tep-cse/evil").rsc == 4004
    finally:
        evil.stop()


def test_in_cse_restart_re_registration(chain):
    """The IN-CSE restarts: the gateways' sessions are gone; they notice, connect again and
    the application reaches /mn2 again."""
    p, mn1, mn2, app, admin = chain
    before = mn1.log(since_start=False).count("event=registrar_represented")
    p["cse"].stop()
    p["cse"].start()
    assert until(lambda: app.run("retrieve", "~/mn2/mn2").rsc == 4103, 20), mn1.tail()
    assert "event=registrar_not_answering" in mn1.log() or \
        "event=registrar_session_closed" in mn1.log(), mn1.tail()
    # registered again (CREATE 4117, then UPDATE): the route works before that is done
    wait_registered(mn1, before + 1)
    assert "how=update" in mn1.log(), mn1.tail()


def test_de_registration_removes_the_route_until_registered_again(chain):
    """The admin deletes /mn1's <remoteCSE> at the IN-CSE (de-registration, TS-0001
    10.2.2.10): the IN-CSE has no route to /mn1 or /mn2 (4004); /mn1, still running, finds
    its registration gone at its next check and registers again (10.2.2.6)."""
    p, mn1, mn2, app, admin = chain
    assert admin.delete("tep-cse/mn1").rsc == 2002
    r = app.run("retrieve", "~/mn2/mn2")
    assert r.rsc == 4004, str(r)
    assert until(lambda: app.run("retrieve", "~/mn2/mn2").rsc == 4103, 20), mn1.tail()
    assert "event=registration_lost rsc=4004" in mn1.log(), mn1.tail()
