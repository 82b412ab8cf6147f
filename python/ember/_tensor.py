"""Tensor methods that are not on the per-op hot path, written in Python and
attached to the compiled ember._C.Tensor class."""
import copy as _copy


from . import _C
from ._C import Tensor
from ._tensor_str import tensor_repr


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as ember.Size([2, 3])."""

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = super().__getitem__(item)
        return Size(r) if isinstance(item, slice) else r


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor w.r.t. graph leaves (accumulated into .grad)."""
    from . import autograd

    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _tolist(self):
    return self.detach().numpy().tolist()


def _array(self, dtype=None, copy=None):
    arr = self.detach().numpy()
    return arr if dtype is None else arr.astype(dtype, copy=False)


def _format(self, spec):
    if self.dim() == 0 and spec:
        return self.item().__format__(spec)
    return object.__format__(str(self), spec) if not spec else str(self).__format__(spec)


def _iter(self):
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


def _contains(self, element):
    return bool((self == element).any())


def _to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other), with keyword forms."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    for a in args:
        if isinstance(a, _C.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _C.device)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {type(a).__name__}")
    if device is not None:
        _C._check_device(_C.device(device) if isinstance(device, str) else device)
    return self if dtype is None or dtype == self.dtype else self._to_dtype(dtype)


def _cuda(self, device=None, non_blocking=False):
    _C._check_device(_C.device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}"))


def _deepcopy(self, memo):
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol "
                           "at the moment.  If you were attempting to deepcopy a module, this may be because of a "
                           "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
    if id(self) in memo:
        return memo[id(self)]
    out = self.detach().clone()
    out.requires_grad_(self.requires_grad)
    if self.grad is not None:
        out.grad = _copy.deepcopy(self.grad, memo)
    memo[id(self)] = out
    return out


def _new(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from . import _creation

        return getattr(_creation, factory)(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    return method


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    from . import _creation

    return _creation.full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from . import _creation

    return _creation.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _uniform_(self, a=0.0, b=1.0):
    from . import _creation, grad_mode

    with grad_mode.no_grad():
        return self.copy_(_creation.rand(*self.shape, dtype=self.dtype) * (b - a) + a)


def _normal_(self, mean=0.0, std=1.0):
    from . import _creation, grad_mode

    with grad_mode.no_grad():
        return self.copy_(_creation.randn(*self.shape, dtype=self.dtype) * std + mean)


def _type(self, dtype=None):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "int32": "IntTensor",
             "bool": "BoolTensor"}
    if dtype is None:
        return "ember." + names[str(self.dtype).split(".")[-1]]
    return self._to_dtype(dtype)


def _floordiv(self, other):
    raise NotImplementedError("ember: floor division (//) is not supported yet; use (a / b).floor() when available")


_METHODS = {
    "backward": _backward,
    "tolist": _tolist,
    "__array__": _array,
    "__repr__": tensor_repr,
    "__str__": tensor_repr,
    "__format__": _format,
    "__iter__": _iter,
    "__contains__": _contains,
    "__deepcopy__": _deepcopy,
    "to": _to,
    "cpu": lambda self: self,
    "cuda": _cuda,
    "new_zeros": _new("zeros"),
    "new_ones": _new("ones"),
    "new_empty": _new("empty"),
    "new_full": _new_full,
    "new_tensor": _new_tensor,
    "uniform_": _uniform_,
    "normal_": _normal_,
    "type": _type,
    "__array_priority__": 1000,  # numpy defers to Tensor operators (np_array * tensor -> Tensor)
}


def install():
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.__module__ = "ember"
