"""The Distribution base class, as torch.distributions.Distribution: shapes (sample + batch + event),
argument and sample validation with PyTorch's errors, and the default sample/rsample/expand."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from .._runtime import _is_all_true
from .._tensor import Size
from ..grad_mode import no_grad
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]

NO_SHAPE = Size()  # the default sample_shape / batch_shape / event_shape


class Distribution:
    """A probability distribution with a batch of independent parameter sets (``batch_shape``), each over
    events of ``event_shape``."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turns argument and sample validation on or off for every distribution made afterwards."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(
        self, batch_shape: Any = NO_SHAPE, event_shape: Any = NO_SHAPE, validate_args: bool | None = None
    ) -> None:
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:  # PyTorch warns and checks nothing
                arg_constraints = {}
                warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                    "initialize the distribution with `validate_args=False` to turn off validation.",
                    stacklevel=2,
                )
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue  # checked by the distribution itself, if at all
                if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                    continue  # the other parametrization (logits of probs): made from a checked one
                value = getattr(self, param)
                if not _is_all_true(constraint.check(value)):  # inside vmap: all entries at once
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) of "
                        f"distribution {self!r} to satisfy the constraint {constraint!r}, but found invalid "
                        f"values:\n{value}"
                    )

    # ------------------------------------------------------------------------------- shapes
    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        raise NotImplementedError

    @property
    def support(self) -> Any:
        raise NotImplementedError

    def _extended_shape(self, sample_shape: Any = NO_SHAPE) -> Size:
        return Size(tuple(sample_shape)) + self._batch_shape + self._event_shape

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """The object an ``expand`` of ``cls``'s fills in: ``_instance``, else a new uninitialised one of
        self's type. PyTorch's helper, which subclasses' own ``expand`` methods call (pyro's): a subclass
        with its own ``__init__`` must define ``expand`` too, as ``cls.expand`` cannot know its arguments."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom __init__ method must "
                "also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The distribution with its parameters expanded (views, no copies) to a larger batch_shape."""
        batch_shape = Size(batch_shape)
        new = _instance if _instance is not None else type(self).__new__(type(self))
        for param in self.arg_constraints:
            if param in self.__dict__:
                value = self.__dict__[param]
                event = tuple(value.shape[len(self._batch_shape) :])
                setattr(new, param, value.expand((*batch_shape, *event)))  # a tuple: no sizes is valid too
        for key, value in self.__dict__.items():
            if key.startswith("_") and key not in ("_batch_shape", "_event_shape"):
                setattr(new, key, value)
        if "_param" in self.__dict__:
            new._param = next(getattr(new, p) for p in self.arg_constraints if p in self.__dict__)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    # ------------------------------------------------------------------------------ moments
    @property
    def mean(self) -> Any:
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> Any:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> Any:
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> Any:
        return self.variance.sqrt()

    # ----------------------------------------------------------------------------- sampling
    def sample(self, sample_shape: Any = NO_SHAPE) -> Any:
        """Samples of shape sample_shape + batch_shape + event_shape, without gradients."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = NO_SHAPE) -> Any:
        """Reparameterized samples: differentiable in the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Any:
        """Deprecated: sample((n,))."""
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning, stacklevel=2)
        return self.sample(Size((n,)))

    # ------------------------------------------------------------------------------ density
    def log_prob(self, value: Any) -> Any:
        """The log density (or log mass) of value, one per batch element (event dims reduced)."""
        raise NotImplementedError

    def cdf(self, value: Any) -> Any:
        """The cumulative distribution function P(X <= value)."""
        raise NotImplementedError

    def icdf(self, value: Any) -> Any:
        """The inverse of cdf: the value with P(X <= value) = the given probability."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Any:
        """Every value of a finite support along a new first dim (expanded over the batch if expand)."""
        raise NotImplementedError

    def entropy(self) -> Any:
        """The (differential) entropy -E[log p(X)], one per batch element."""
        raise NotImplementedError

    def perplexity(self) -> Any:
        """exp(entropy)."""
        return self.entropy().exp()

    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a value given to log_prob: a tensor, of a shape that broadcasts with
        batch_shape + event_shape, inside the support."""
        if not isinstance(value, _C.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        start = value.dim() - len(self._event_shape)
        if tuple(value.shape[start:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {value.shape} vs {self._event_shape}."
            )
        actual, expected = value.shape, self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {actual} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:  # a subclass without a support: PyTorch warns and skips the check
            warnings.warn(
                f"{self.__class__} does not define `support` to enable sample validation. Please initialize the "
                "distribution with `validate_args=False` to turn off validation.",
                stacklevel=3,
            )
            return
        if not _is_all_true(support.check(value)):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be within the "
                f"support ({support!r}) of the distribution {self!r}, but found invalid values:\n{value}"
            )

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}" for p in names
        )
        return f"{self.__class__.__name__}({args})"
