"""``ember.return_types``, as ``torch.return_types``: the named tuples ops return (``x.max(0)`` is a
``return_types.max`` with ``values`` and ``indices``). As PyTorch's structseqs they also take one sequence
(``return_types.max([values, indices])``, which tensordict calls to rebuild one), pickle by name and print
field by field."""

from __future__ import annotations

import collections
from typing import Any

__all__: list[str] = []


def _make(name: str, fields: tuple[str, ...]) -> type:
    base = collections.namedtuple(name, fields)  # type: ignore[misc]
    n = len(fields)

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        if len(args) == 1 and not kwargs and isinstance(args[0], (list, tuple)) and (n > 1 or len(args[0]) == 1):
            values = tuple(args[0])  # PyTorch's structseq form: one sequence of all fields
            if len(values) != n:
                raise TypeError(f"ember.return_types.{name}() takes a {n}-sequence ({len(values)}-sequence given)")
            return base.__new__(cls, *values)
        return base.__new__(cls, *args, **kwargs)

    def __repr__(self: Any) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"ember.return_types.{name}(\n{body})"

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


for _name in ("max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "cummax", "cummin", "mode"):
    _make(_name, ("values", "indices"))
_make("aminmax", ("min", "max"))
_make("frexp", ("mantissa", "exponent"))
_make("histogram", ("hist", "bin_edges"))
_make("histogramdd", ("hist", "bin_edges"))
_make("geqrf", ("a", "tau"))
_make("slogdet", ("sign", "logabsdet"))
_make("qr", ("Q", "R"))
_make("svd", ("U", "S", "V"))
_make("triangular_solve", ("solution", "cloned_coefficient"))
_make("lu_unpack", ("P", "L", "U"))
_make("linalg_inv_ex", ("inverse", "info"))
_make("linalg_cholesky_ex", ("L", "info"))
_make("linalg_solve_ex", ("result", "info"))
_make("linalg_slogdet", ("sign", "logabsdet"))
_make("linalg_qr", ("Q", "R"))
_make("linalg_eigh", ("eigenvalues", "eigenvectors"))
_make("linalg_eig", ("eigenvalues", "eigenvectors"))
_make("linalg_svd", ("U", "S", "Vh"))
_make("linalg_lu_factor", ("LU", "pivots"))
_make("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_make("linalg_lu", ("P", "L", "U"))
_make("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
_make("linalg_ldl_factor", ("LD", "pivots"))
_make("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
del _name


def _install() -> None:
    """The compiled ops build their (values, indices) results from these classes."""
    from . import _C

    for name in vars(_C.return_types):
        setattr(_C.return_types, name, globals()[name])
