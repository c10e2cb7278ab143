"""235: a UE bootstrapping in a loop over Ub (TS 33.220 4.5.2: each run leaves a B-TID and
its Ks at the BSF for the key lifetime). tep-bsf kept every B-TID forever, expired ones
too: one subscriber with its own USIM filled the store that every UE and NAF shares. Now
a bootstrap deletes B-TIDs past their lifetime and keeps at most 4 per IMPI (the
subscriber's oldest goes): the newest B-TID stays usable."""

import gba_common
import tepgba


def test_bootstraps_of_one_impi_are_bounded(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    btids = []
    for _ in range(7):
        out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
        assert out["status"] == 200, out
        btids.append(out["btid"])
    rows = gba_common.table(p.tepctl("gba", "btids", admin="bsf"))
    held = [c for row in rows for c in row if "@" in c and c in btids]
    # four, the newest among them (bootstraps within one second are equally old)
    assert len(held) == 4 and btids[-1] in held, rows
