"""ember.library.Library, PyTorch's low-level op registration: ops defined from schema strings, kernels per
dispatch key, PyTorch's errors for a namespace defined twice, an op defined twice and a missing kernel; and
custom ops with keyword-only parameters (the kernel gets them by name)."""

from __future__ import annotations

import itertools

import pytest

import ember

_names = (f"emberlibtest{i}" for i in itertools.count())


def test_define_and_impl_make_a_callable_op_with_its_schema_defaults():
    ns = next(_names)
    lib = ember.library.Library(ns, "DEF")
    assert repr(lib) == f"Library(kind=DEF, ns={ns}, dispatch_key=)>"
    assert lib.define("scale(Tensor x, int n=2, *, float s=1.0) -> Tensor") == "scale"
    op = getattr(ember.ops, ns).scale
    with pytest.raises(NotImplementedError, match=f"Could not run '{ns}::scale' with arguments from the 'CPU'"):
        op(ember.ones(2))
    lib.impl("scale", lambda x, n=2, s=1.0: x * n * s, "CompositeImplicitAutograd")
    x = ember.ones(2, requires_grad=True)
    y = op(x, 3, s=2.0)
    assert y.tolist() == [6.0, 6.0] and y.grad_fn.name() == "MulBackward0"  # the kernel's own graph
    assert op(x).tolist() == [2.0, 2.0] and op.default is op


def test_cpu_and_meta_kernels_and_a_kernel_given_before_the_definition():
    ns = next(_names)
    impl = ember.library.Library(ns, "IMPL")
    impl.impl("twice", lambda x: x * 2, "CPU")  # kept until the op exists, as PyTorch
    lib = ember.library.Library(ns, "DEF")
    lib.define("twice(Tensor x) -> Tensor")
    lib.impl("twice", lambda x: ember.empty_like(x), "Meta")
    op = getattr(ember.ops, ns).twice
    assert op(ember.tensor([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert op(ember.empty(3, device="meta")).shape == (3,)
    with pytest.raises(RuntimeError, match="Tried to register an operator"):
        lib.define("twice(Tensor x) -> Tensor")


def test_pytorchs_errors_for_kinds_namespaces_and_ember_ops():
    ns = next(_names)
    ember.library.Library(ns, "DEF")
    with pytest.raises(RuntimeError, match=f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}"):
        ember.library.Library(ns, "DEF")
    with pytest.raises(ValueError, match="Unsupported kind: BAD"):
        ember.library.Library(ns, "BAD")
    with pytest.raises(NotImplementedError, match="no dispatcher to send every op to a fallback kernel"):
        ember.library.Library(ns, "FRAGMENT").fallback(lambda *a: None, "CPU")
    with pytest.raises(NotImplementedError, match="with_keyset=True"):
        ember.library.Library(ns, "FRAGMENT").impl("anything", lambda ks, x: x, "CPU", with_keyset=True)
    with pytest.raises(NotImplementedError, match="cannot replace its own op aten::add"):
        ember.library.Library("aten", "IMPL").impl("add.Tensor", lambda a, b: a, "CPU")


def test_module_level_define_and_impl_decorator():
    ns = next(_names)
    ember.library.define(f"{ns}::plus_one", "(Tensor x) -> Tensor")

    @ember.library.impl(f"{ns}::plus_one", "cpu")
    def plus_one(x):
        return x + 1

    assert getattr(ember.ops, ns).plus_one(ember.zeros(2)).tolist() == [1.0, 1.0]


def test_custom_op_passes_keyword_only_arguments_by_name():
    ns = next(_names)

    @ember.library.custom_op(f"{ns}::scaled", mutates_args=())
    def scaled(x: ember.Tensor, *, s: float = 2.0) -> ember.Tensor:
        return x * s

    assert scaled(ember.ones(2), s=3.0).tolist() == [3.0, 3.0]
    assert scaled(ember.ones(2)).tolist() == [2.0, 2.0]
