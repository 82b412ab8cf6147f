"""``torch.utils.data._utils.collate``: the extensible collate (``collate`` with a ``collate_fn_map``,
``default_collate_fn_map`` and its per-type functions), from ember.utils.data.dataloader."""

from ..dataloader import (
    _COLLATE_ERROR as default_collate_err_msg_format,
)
from ..dataloader import (
    _STR_OR_OBJECT_DTYPE as np_str_obj_array_pattern,
)
from ..dataloader import (
    collate,
    collate_float_fn,
    collate_int_fn,
    collate_numpy_array_fn,
    collate_numpy_scalar_fn,
    collate_str_fn,
    collate_tensor_fn,
    default_collate,
    default_collate_fn_map,
    default_convert,
)

__all__ = [
    "collate", "collate_float_fn", "collate_int_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
    "collate_str_fn", "collate_tensor_fn", "default_collate", "default_collate_err_msg_format",
    "default_collate_fn_map", "default_convert", "np_str_obj_array_pattern",
]  # fmt: skip
