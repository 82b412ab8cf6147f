"""Random sampling beyond rand/randn/randint: bernoulli, multinomial, normal,
poisson, the in-place samplers of Tensor (bernoulli_, exponential_,
geometric_, cauchy_, log_normal_, random_) and randint_like.

Every sample comes from ember's generators (the default one, or ``generator=``),
so ``manual_seed`` makes them repeat. Most are transforms of uniform or normal
draws; poisson draws from numpy with a seed taken from ember's generator.
Samples never require grad, except ``normal`` with tensor mean/std, which is
differentiable in them (mean + std * noise), as PyTorch's reparametrised normal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C, _memory_format
from ._C import Generator, Tensor
from ._composite_shape import _out
from ._creation import _check_device, _check_layout_and_pinning, _device_of, rand, randint, randn, tensor
from .grad_mode import no_grad

__all__ = ["bernoulli", "multinomial", "normal", "poisson", "randint_like"]


def _uniform_like(t: Tensor, generator: Generator | None) -> Tensor:
    dtype = t.dtype if t.is_floating_point() else _C.dtype.float64
    return rand(*t.shape, dtype=dtype, device=_device_of(t), generator=generator)


def bernoulli(
    input: Tensor, p: float | None = None, *, generator: Generator | None = None, out: Tensor | None = None
) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (or ``p``) at each element, in input's dtype."""
    with no_grad():
        probs = input if p is None else p
        _check_probability(probs)
        r = (_uniform_like(input, generator) < probs).to(input.dtype)
    return _out(out, r, "bernoulli")


def _check_probability(p: float | Tensor | None) -> None:
    """PyTorch's check of bernoulli's p (a number, or a tensor of them): in [0, 1]."""
    if isinstance(p, Tensor):
        if p.is_floating_point() and bool(((p < 0) | (p > 1)).any()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    elif p is not None and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def _bernoulli_(self: Tensor, p: float | Tensor = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fills self with 0/1 samples, 1 with probability p; returns self."""
    _check_probability(p)
    with no_grad():
        return self.copy_(_uniform_like(self, generator) < p)


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """Indices sampled from the categories of each row of input, weighted by its (unnormalised) values."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype}")
    n = input.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    with no_grad():
        w = input.reshape(-1, n).double()
        if bool((~_C.isfinite(w) | (w < 0)).any()):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        total = w.sum(1, keepdim=True)
        if bool((total <= 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement or num_samples == 1:  # one draw is the same with or without replacement
            # inverse CDF: each uniform draw falls in one category's stretch of the cumulative sum
            cdf = (w / total).cumsum(1)
            cdf[:, -1] = 1.0
            u = rand(w.shape[0], num_samples, dtype=_C.dtype.float64, device=_device_of(w), generator=generator)
            r = _C.searchsorted(cdf.contiguous(), u, right=True).clamp_max(n - 1)
        else:
            # Efraimidis-Spirakis: the k smallest of -log(u) / w are a weighted draw without replacement
            u = rand(*w.shape, dtype=_C.dtype.float64, device=_device_of(w), generator=generator).clamp_min(1e-300)
            keys = -u.log() / w  # zero weights give inf: drawn last
            r = keys.topk(num_samples, dim=1, largest=False).indices
        r = r.reshape(*input.shape[:-1], num_samples)
    return _out(out, r, "multinomial")


def normal(
    mean: Tensor | float = 0.0,
    std: Tensor | float = 1.0,
    size: Sequence[int] | None = None,
    *,
    generator: Generator | None = None,
    out: Tensor | None = None,
    dtype: _C.dtype | None = None,
    layout: Any = None,
    device: str | _C.device | None = None,
    pin_memory: bool = False,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples: of the broadcast shape of tensor mean and std (differentiable in them), or of
    ``size`` for numbers (on ``device``, as the other factories)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        _check_layout_and_pinning(layout, pin_memory, "normal", device)
        dt = dtype or (out.dtype if out is not None else None)
        r = randn(*size, dtype=dt, device=device, generator=generator, pin_memory=pin_memory) * std + mean
        r.requires_grad_(requires_grad)
        return _out(out, r, "normal")
    if isinstance(std, Tensor) and bool((std < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = (mean * std).shape if len(tensors) == 2 else tensors[0].shape  # the broadcast shape
    like = tensors[0]
    dt = like.dtype if like.is_floating_point() else _C.dtype.float32
    noise = randn(*shape, dtype=dt, device=_device_of(like), generator=generator)
    r = noise * std + mean
    return _out(out, r, "normal")


def _numpy_rng(generator: Generator | None) -> np.random.Generator:
    """A numpy generator seeded from ember's stream (``generator``, or the default one): samplers ember
    takes from numpy (poisson, binomial) are reproduced by manual_seed and advance ember's stream."""
    return np.random.default_rng(int(randint(0, 2**62, (1,), generator=generator).item()))


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson samples with rates ``input`` (of input's dtype)."""
    if bool((input < 0).any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    rates = input.detach().double().cpu().numpy()  # numpy draws them on the host
    draws = np.asarray(_numpy_rng(generator).poisson(rates), dtype=np.float64)  # a 0-d rate draws a scalar
    return tensor(draws, dtype=input.dtype, device=_device_of(input))


def _binomial(count: Tensor, probs: Tensor, generator: Generator | None = None) -> Tensor:
    """Exact Binomial(count, probs) samples, elementwise over tensors of one shape, in probs' dtype:
    numpy's sampler (inversion, or BTPE for large counts) seeded from ember's stream, as poisson, so
    manual_seed reproduces them and a count of any size costs the same. A NaN probability gives NaN and
    a non-integral count is floored, as PyTorch's kernel."""
    n = np.floor(np.maximum(count.detach().double().cpu().numpy(), 0)).astype(np.int64)  # drawn on the host
    p = probs.detach().double().cpu().numpy()
    nan = np.isnan(p)
    draws = np.asarray(_numpy_rng(generator).binomial(n, np.where(nan, 0.0, np.clip(p, 0.0, 1.0))), np.float64)
    return tensor(np.where(nan, np.nan, draws), dtype=probs.dtype, device=_device_of(probs))


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fills self with exponential samples of rate lambd; returns self."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    with no_grad():
        u = _uniform_like(self, generator)
        return self.copy_(-(1 - u).log() / lambd)


def _geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fills self with the number of Bernoulli(p) trials up to the first success; returns self."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    with no_grad():
        u = rand(*self.shape, dtype=_C.dtype.float64, device=_device_of(self), generator=generator)
        return self.copy_(((1 - u).log() / math.log1p(-p)).ceil().clamp_min(1))


def _cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fills self with Cauchy samples; returns self."""
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    with no_grad():
        u = _uniform_like(self, generator)
        return self.copy_(((u - 0.5) * math.pi).tan() * sigma + median)


def _log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    """Fills self with exp of normal samples of the given mean and std; returns self."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    with no_grad():
        noise = randn(*self.shape, dtype=self.dtype, device=_device_of(self), generator=generator)
        return self.copy_((noise * std + mean).exp())


_RANDOM_TOP = {
    "float16": 2**11,
    "bfloat16": 2**8,
    "float32": 2**24,
    "float64": 2**53,
    "uint8": 2**8,
    "uint16": 2**16,
    "uint32": 2**32,
    "uint64": 2**63 - 1,
    "int8": 2**7,
    "int16": 2**15,
    "int32": 2**31 - 1,
    "int64": 2**63 - 1,
    "bool": 2,
}


def _random_(self: Tensor, *args: int | None, generator: Generator | None = None, **bounds: int | None) -> Tensor:
    """Fills self with integers uniform on [from, to): random_(), random_(to), random_(from, to)."""
    lo, hi = 0, None
    if len(args) == 1:
        hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    lo = bounds.get("from", lo)
    hi = bounds.get("to", hi)
    if hi is None:
        hi = _RANDOM_TOP[str(self.dtype).split(".")[-1]]
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    with no_grad():
        return self.copy_(randint(lo, hi, tuple(self.shape), device=_device_of(self), generator=generator))


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    dtype: _C.dtype | None = None,
    generator: Generator | None = None,
    layout: object = None,
    device: object = None,
    requires_grad: bool = False,
    memory_format: object = None,
) -> Tensor:
    """Integers uniform on [low, high) in input's shape (and dtype, unless dtype says); randint_like(input, high)."""
    _check_layout_and_pinning(layout, False, "randint_like")
    _check_device(device)
    if high is None:
        low, high = 0, low
    device = device if device is not None else _device_of(input)  # input's device unless device says
    r = randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device, generator=generator)
    r = _memory_format.laid_out_like(r, input, memory_format, "randint_like")  # input's strides, as the *_like
    return r.requires_grad_(requires_grad) if requires_grad else r


def _bernoulli(self: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """0/1 samples, 1 with probability self (or p) at each element."""
    return bernoulli(self, p, generator=generator)


def _multinomial(
    self: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None
) -> Tensor:
    """Indices sampled from the categories of each row of self, weighted by its values."""
    return multinomial(self, num_samples, replacement, generator=generator)


_METHODS = {
    "bernoulli": _bernoulli,
    "bernoulli_": _bernoulli_,
    "multinomial": _multinomial,
    "exponential_": _exponential_,
    "geometric_": _geometric_,
    "cauchy_": _cauchy_,
    "log_normal_": _log_normal_,
    "random_": _random_,
}


def install() -> None:
    """Attaches the sampling methods to ember.Tensor."""
    for name, fn in _METHODS.items():
        fn.__name__ = name
        setattr(Tensor, name, fn)
