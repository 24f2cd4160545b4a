"""Deadline: one monotonic clock, derived deadlines, crossing a process boundary."""

import math
import pickle
import subprocess
import sys
import time

import pytest

from recyclenet.deadline import Deadline
from recyclenet.errors import InputError


def test_after_remaining_and_expired():
    d = Deadline.after(5.0)
    assert d.limit_s == 5.0
    assert 4.5 < d.remaining_s() <= 5.0
    assert not d.expired()
    assert d.fraction_used() < 0.1
    late = d.earlier(6.0)
    assert late.expired() and late.remaining_s() == 0.0
    assert late.limit_s == 5.0  # the budget it came from, for progress shares


def test_within_and_share_never_extend():
    d = Deadline.after(10.0)
    assert d.within(100.0).at_s == d.at_s
    assert 0.9 < d.within(1.0).remaining_s() <= 1.0
    half = d.share(0.5)
    assert 4.5 < half.remaining_s() <= 5.0
    assert Deadline.never().share(0.5).remaining_s() == math.inf


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, "10", True, None])
def test_bad_limits_are_input_errors(bad):
    with pytest.raises(InputError, match="time_limit_s"):
        Deadline.after(bad)


def test_pickle_keeps_the_absolute_instant():
    d = Deadline.after(3.0)
    time.sleep(0.5)  # the copy must not restart the budget
    copy = pickle.loads(pickle.dumps(d))
    assert copy.limit_s == 3.0
    # the same instant, up to the two clocks' reads (a restart would move it by >= 0.5 s);
    # compared with the original, not the clock, so a loaded machine's delays cancel out
    assert abs(copy.at_s - d.at_s) < 0.25
    assert copy.remaining_s() < 3.0 - 0.5 + 0.25 and d.remaining_s() < 2.5
    assert copy.fraction_used() > (0.5 - 0.25) / 3.0


def test_a_child_process_sees_the_same_remaining_time():
    d = Deadline.after(30.0)
    code = (
        "import pickle,sys; d = pickle.loads(sys.stdin.buffer.read()); "
        "print(d.remaining_s(), d.limit_s)"
    )
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(d),
                         capture_output=True, check=True).stdout.split()  # fmt: skip
    remaining, limit = float(out[0]), float(out[1])
    assert limit == 30.0
    assert d.remaining_s() <= remaining < 30.0


def test_epoch_round_trip():
    d = Deadline.after(60.0)
    e = Deadline.from_epoch_s(d.to_epoch_s(), d.limit_s)
    assert abs(e.at_s - d.at_s) < 0.01
    assert Deadline.from_epoch_s(math.inf).remaining_s() == math.inf
