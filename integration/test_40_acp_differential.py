"""40: tep's C access-control evaluator (common/cmn_acp*.c, through the acp-eval filter)
agrees with an independent reference written from the specification
(integration/acp_reference/reference.py) on 100,000 generated (request, policy set)
cases: the same decision and, for a Permit, the same deciding rule.
TS-0003 7.1.4 ("an implementation of the access decision processing shall return the
same result as the reference access decision algorithm would return"), 7.1.5, 7.1.3;
TS-0004 7.4.9.1 (scheduleEntry)."""

import json
import os
import sys

import pytest

from harness import BUILD

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "acp_reference"))

import differential  # noqa: E402

SEED = 20261128
CASES = 100000


@pytest.fixture(scope="module")
def acp_eval():
    path = os.path.join(BUILD, "tools", "bench", "acp-eval")
    assert os.access(path, os.X_OK), "%s is not built" % path
    return path


def test_c_evaluator_agrees_with_reference(acp_eval):
    mismatches, stats = differential.run(acp_eval, SEED, CASES, coverage_n=10000)
    shown = "\n".join("C=%r reference=%r case=%s" % (c, r, json.dumps(case))
                      for case, c, r in mismatches[:10])
    assert not mismatches, "%d of %d cases disagree, first ones:\n%s" % (
        len(mismatches), CASES, shown)
    # Both outcomes are frequent, and every feature decided some cases.
    assert stats["permits"] > CASES // 5 and stats["denies"] > CASES // 5, stats
    quiet = {k: v for k, v in stats["decisive"].items() if v < 20}
    assert not quiet, "features that decided too few cases: %s" % quiet


def test_filter_reports_unusable_lines(acp_eval):
    """acp-eval answers every line: a broken line is an error, never a decision."""
    lines = ["not json\n", '{"rq": {"fr": "C1", "op": 3}, "acps": []}\n',
             '{"rq": {"fr": "C1", "op": 2}, "acps": [{"pv": {"acr": [{"acor": ["all"], '
             '"acop": 2}]}}]}\n']
    out = differential.run_c(acp_eval, lines)
    assert out[0].startswith("error")
    assert out[1] == "error bad request"
    assert out[2] == "permit acp[0].acr[0]"
