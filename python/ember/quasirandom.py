"""ember.quasirandom: ``SobolEngine``, Sobol' low-discrepancy sequences as PyTorch's (Joe and Kuo's direction
numbers, up to 21201 dimensions; scrambled by Owen's method when asked). ember draws them through
``scipy.stats.qmc.Sobol``, whose unscrambled points are PyTorch's exactly, so this one class needs scipy
(imported when an engine is made); a scrambled engine's seed comes from ember's generator when none is
given, so ``manual_seed`` reproduces it."""

from __future__ import annotations

import warnings
from typing import Any

from ._C import Tensor

__all__ = ["SobolEngine"]


class SobolEngine:
    MAXDIM = 21201

    def __init__(self, dimension: int, scramble: bool = False, seed: int | None = None) -> None:
        if not 1 <= dimension <= self.MAXDIM:
            raise ValueError(f"Supported range of dimensionality for SobolEngine is [1, {self.MAXDIM}]")
        try:
            from scipy.stats import qmc
        except ImportError as error:
            raise ImportError(
                "ember.quasirandom.SobolEngine draws through scipy.stats.qmc: pip install scipy"
            ) from error
        if seed is None and scramble:
            from ._creation import randint

            seed = int(randint(0, 2**62, (1,)).item())
        self.dimension, self.scramble, self.seed = dimension, scramble, seed
        self._engine = qmc.Sobol(dimension, scramble=scramble, seed=seed)
        self.num_generated = 0

    def _tensor(self, points: Any, out: Tensor | None, dtype: Any) -> Tensor:
        from ._creation import get_default_dtype, tensor

        result = tensor(points, dtype=dtype if dtype is not None else get_default_dtype())
        self.num_generated += len(points)
        if out is not None:
            return out.resize_(result.shape).copy_(result)
        return result

    def draw(self, n: int = 1, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next ``n`` points, an (n, dimension) tensor in [0, 1)."""
        with warnings.catch_warnings():  # scipy's advice on powers of 2: PyTorch's draw gives none
            warnings.simplefilter("ignore", UserWarning)
            return self._tensor(self._engine.random(n), out, dtype)

    def draw_base2(self, m: int, out: Tensor | None = None, dtype: Any = None) -> Tensor:
        """The next 2**m points, keeping the sequence's balance (the points drawn before and after are a
        power of 2 in all)."""
        total = self.num_generated + 2**m
        if total & (total - 1):
            raise ValueError(
                "The balance properties of Sobol' points require n to be a power of 2. "
                f"{self.num_generated} points have been previously generated, then: n={self.num_generated}+2**{m}"
                f"={total}. If you still want to do this, please use 'SobolEngine.draw()' instead."
            )
        return self.draw(2**m, out=out, dtype=dtype)

    def reset(self) -> SobolEngine:
        self._engine.reset()
        self.num_generated = 0
        return self

    def fast_forward(self, n: int) -> SobolEngine:
        """Skips the next ``n`` points."""
        self._engine.fast_forward(n)
        self.num_generated += n
        return self

    def __repr__(self) -> str:
        extra = f", scramble=True, seed={self.seed}" if self.scramble else ""
        return f"SobolEngine(dimension={self.dimension}{extra})"
