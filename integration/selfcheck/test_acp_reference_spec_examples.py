"""Self-check of a test helper, not a tep test: the independent access-control reference
that integration 40 compares tep's C evaluator with (integration/acp_reference) gives
the answers printed in the specifications' own examples. TS-0004 7.4.9.1 (scheduleEntry),
TS-0003 table 7.1.3-2."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "acp_reference"))

from reference import decide, schedule_matches  # noqa: E402


def test_reference_knows_the_spec_examples():
    """The reference itself, on the examples printed in the specifications."""
    # TS-0004 7.4.9.1 example 1: 2:00-2:05, 6:00-6:05, 10:00-10:05 every day (UTC).
    assert schedule_matches("* 0-5 2,6,10 * * * *", 1741917780) is True     # 02:03
    assert schedule_matches("* 0-5 2,6,10 * * * *", 1741918080) is False    # 02:08
    assert schedule_matches("* * * * * *", 1741917780) is None               # 6 fields
    # TS-0003 table 7.1.3-2: "*" ends at "/".
    rq = {"fr": "//m2msp.org/myCSE01/x/C9801", "op": 2, "ty": 3}
    pv = {"pv": {"acr": [{"acor": ["//m2msp.org/myCSE*/C98*"], "acop": 2}]}}
    assert decide(rq, [pv]) == "deny"
    rq["fr"] = "//m2msp.org/myCSE01/C9801"
    assert decide(rq, [pv]) == "permit acp[0].acr[0]"
