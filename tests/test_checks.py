"""sb3_behave.checks: the number checks every YAML key and option goes through."""

from __future__ import annotations

import numpy as np
import pytest

from sb3_behave.checks import is_number, is_whole_number


@pytest.mark.parametrize("value", [0, 3, -2, 0.5, 1e-3, float("inf")])
def test_a_number_is_an_int_or_a_float(value):
    assert is_number(value)


@pytest.mark.parametrize("value", [True, False, "1e-3", None, [1], np.array(1.0)])
def test_bools_strings_and_others_are_not_numbers(value):
    # YAML 1.1 reads `1e-3` as a string and `yes` as True: both must be refused, not used as 1e-3 or 1.
    assert not is_number(value)


def test_a_whole_number_is_an_int_at_least_the_minimum():
    assert is_whole_number(1) and is_whole_number(10**12)
    assert not is_whole_number(0) and not is_whole_number(-1)
    assert is_whole_number(0, minimum=0) and not is_whole_number(-1, minimum=0)
    assert is_whole_number(-5, minimum=None)


@pytest.mark.parametrize("value", [True, 1.0, 2.5, "3", None])
def test_bools_floats_and_strings_are_not_whole_numbers(value):
    assert not is_whole_number(value, minimum=None)
