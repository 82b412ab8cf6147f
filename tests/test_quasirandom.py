"""ember.quasirandom.SobolEngine: Sobol' points as PyTorch's (Joe-Kuo direction numbers, drawn through
scipy.stats.qmc): the unscrambled sequence's known values, its balance rule, fast_forward and reset, and
scrambled engines reproduced by manual_seed."""

import numpy as np
import pytest

import ember

qmc = pytest.importorskip("scipy.stats.qmc")
SobolEngine = ember.quasirandom.SobolEngine


@pytest.mark.filterwarnings("ignore:The balance properties")  # scipy, drawing 7 points for the comparison
def test_unscrambled_points_are_the_sobol_sequence():
    engine = SobolEngine(3)
    points = engine.draw(8)
    assert points.dtype == ember.float32 and points.shape == (8, 3) and engine.num_generated == 8
    # the first coordinate is the base-2 van der Corput sequence in Gray-code order
    np.testing.assert_array_equal(points[:, 0].numpy(), [0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125])
    np.testing.assert_array_equal(points.numpy(), qmc.Sobol(3, scramble=False).random(8).astype(np.float32))
    later = SobolEngine(3).fast_forward(5).draw(2, dtype=ember.float64)
    np.testing.assert_array_equal(later.numpy(), qmc.Sobol(3, scramble=False).random(7)[5:])
    assert engine.reset().num_generated == 0 and engine.draw(1).abs().sum().item() == 0.0
    assert repr(engine) == "SobolEngine(dimension=3)"


def test_balance_rule_scrambling_and_misuse():
    engine = SobolEngine(2)
    engine.draw(4)
    assert engine.draw_base2(2).shape == (4, 2) and engine.num_generated == 8
    engine.draw(3)
    with pytest.raises(ValueError, match=r"require n to be a power of 2. 11 points have been previously generated"):
        engine.draw_base2(2)
    ember.manual_seed(0)
    first = SobolEngine(2, scramble=True).draw(4)
    ember.manual_seed(0)
    again = SobolEngine(2, scramble=True).draw(4)
    assert ember.equal(first, again) and not ember.equal(first, SobolEngine(2).draw(4))
    assert ((first >= 0) & (first < 1)).all()
    out = ember.empty(0)
    SobolEngine(2).draw(3, out=out)
    assert out.shape == (3, 2)
    with pytest.raises(ValueError, match=r"Supported range of dimensionality for SobolEngine is \[1, 21201\]"):
        SobolEngine(0)
