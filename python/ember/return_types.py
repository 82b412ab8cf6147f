"""``ember.return_types``, as ``torch.return_types``: the named tuples ops return (``x.max(0)`` is a
``return_types.max`` with ``values`` and ``indices``). As PyTorch's structseqs they also take one sequence
or other iterable (``return_types.max([values, indices])``, which tensordict calls to rebuild one), pickle
by name and print field by field."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

from . import _names

__all__: list[str] = []


def _make(name: str, fields: tuple[str, ...]) -> type:
    base = collections.namedtuple(name, fields)  # type: ignore[misc]
    n = len(fields)

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        one = args[0] if len(args) == 1 and not kwargs else None
        if isinstance(one, (list, tuple)) and (n > 1 or len(one) == 1) or isinstance(one, Iterator):
            values = tuple(one)  # PyTorch's structseq form: one sequence (any iterable) of all fields
            if len(values) != n:
                raise TypeError(f"ember.return_types.{name}() takes a {n}-sequence ({len(values)}-sequence given)")
            return base.__new__(cls, *values)
        return base.__new__(cls, *args, **kwargs)

    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return _names.qualified(f"return_types.{name}(\n{body})")

    namespace = {
        "__slots__": (),
        "__new__": __new__,
        "__repr__": __repr__,
        "__module__": __name__,
        "__doc__": f"The result of {name}: ({', '.join(fields)}).",
        # a structseq's counts of fields (utils._pytree.is_structseq asks for them)
        "n_fields": n,
        "n_sequence_fields": n,
        "n_unnamed_fields": 0,
    }
    cls = type(name, (base,), namespace)
    globals()[name] = cls
    __all__.append(name)
    return cls


_VALUES_INDICES = ("max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "cummax", "cummin", "mode")
_FIELDS = {
    **{name: "values indices" for name in _VALUES_INDICES},
    "aminmax": "min max",
    "frexp": "mantissa exponent",
    "histogram": "hist bin_edges",
    "histogramdd": "hist bin_edges",
    "geqrf": "a tau",
    "slogdet": "sign logabsdet",
    "qr": "Q R",
    "svd": "U S V",
    "triangular_solve": "solution cloned_coefficient",
    "lu_unpack": "P L U",
    "linalg_inv_ex": "inverse info",
    "linalg_cholesky_ex": "L info",
    "linalg_solve_ex": "result info",
    "linalg_slogdet": "sign logabsdet",
    "linalg_qr": "Q R",
    "linalg_eigh": "eigenvalues eigenvectors",
    "linalg_eig": "eigenvalues eigenvectors",
    "linalg_svd": "U S Vh",
    "linalg_lu_factor": "LU pivots",
    "linalg_lu_factor_ex": "LU pivots info",
    "linalg_lu": "P L U",
    "linalg_lstsq": "solution residuals rank singular_values",
    "linalg_ldl_factor": "LD pivots",
    "linalg_ldl_factor_ex": "LD pivots info",
}
for _name, _fields in _FIELDS.items():
    _make(_name, tuple(_fields.split()))
del _name, _fields


def _install() -> None:
    """The compiled ops build their (values, indices) results from these classes."""
    from . import _C

    for name in vars(_C.return_types):
        setattr(_C.return_types, name, globals()[name])
