"""What the library probes of the seventeenth session found different from PyTorch (torch-harmonics,
torch-struct, ...), each against PyTorch's documented behaviour: a custom op's ctx.needs_input_grad, the
torch._check family, Tensor.tile with the sizes as ints, einsum's dtype rule, assigning a non-number into a
tensor, and the dimension an out-of-range integer index names."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def test_custom_op_backward_sees_its_own_inputs_needs_input_grad():
    """register_autograd's backward reads ctx.needs_input_grad of the op's inputs (ember's had an extra leading
    False, so a backward that trusted it dropped the first input's gradient)."""
    seen = []

    @ember.library.custom_op("probe4::scaled_sum", mutates_args=())
    def scaled_sum(a: ember.Tensor, b: ember.Tensor) -> ember.Tensor:
        return a * 2 + b * 3

    def backward(ctx, grad):
        seen.append(ctx.needs_input_grad)
        return (grad * 2 if ctx.needs_input_grad[0] else None, grad * 3 if ctx.needs_input_grad[1] else None)

    ember.library.register_autograd("probe4::scaled_sum", backward, setup_context=lambda ctx, inputs, output: None)
    x, y = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    scaled_sum(x, y).sum().backward()
    assert seen == [(True, True)]
    assert x.grad.tolist() == [2.0, 2.0] and y.grad.tolist() == [3.0, 3.0]
    z = ember.ones(2)
    scaled_sum(z, y).sum().backward()
    assert seen[-1] == (False, True) and y.grad.tolist() == [6.0, 6.0]


DEFAULT = "Expected cond to be True, but got False."


@pytest.mark.parametrize(
    "check, error",
    [
        (ember._check, RuntimeError),
        (ember._check_index, IndexError),
        (ember._check_value, ValueError),
        (ember._check_type, TypeError),
        (ember._check_not_implemented, NotImplementedError),
    ],
)
def test_check_family_raises_its_error_with_a_lazy_message(check, error):
    check(True, lambda: pytest.fail("the message is built only on failure"))
    with pytest.raises(error, match="Expected cond to be True, but got False"):
        check(False)
    with pytest.raises(error, match="^custom 3$"):
        check(1 > 2, lambda: f"custom {3}")


def test_check_refuses_what_is_not_a_bool():
    with pytest.raises(TypeError, match="cond must be a bool, but got <class 'int'>"):
        ember._check(1)
    with pytest.raises(TypeError, match="use torch._check_tensor_all"):
        ember._check(ember.tensor(True))
    with pytest.raises(TypeError, match="message must be a callable"):
        ember._check(False, "text")
    with pytest.raises(KeyError, match="k"):
        ember._check_with(KeyError, False, lambda: "k")
    ember._check_tensor_all(ember.tensor([True, True]))
    with pytest.raises(RuntimeError, match=DEFAULT):
        ember._check_tensor_all(ember.tensor([True, False]))
    with pytest.raises(ValueError, match="bad"):
        ember._check_tensor_all_with(ValueError, ember.tensor([False]), lambda: "bad")
    ember._check_is_size(3)
    with pytest.raises(RuntimeError, match=DEFAULT):
        ember._check_is_size(-1)
    with pytest.raises(RuntimeError, match=DEFAULT):
        ember._check_is_size(5, max=4)


def test_tile_method_takes_sizes_as_ints():
    x = ember.arange(3.0).reshape(3, 1)
    assert x.tile(1, 4).shape == (3, 4) == x.tile((1, 4)).shape == ember.tile(x, (1, 4)).shape
    assert x.tile(2).tolist() == x.tile((2,)).tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    assert x.tile(dims=(2, 1)).shape == (6, 1)


def test_einsum_promotes_when_nothing_is_summed_and_names_dtypes_otherwise():
    """PyTorch multiplies a pair with no summed subscript (its dtypes promote) and refuses different dtypes in
    a contraction with "expected scalar type ... but found ..."."""
    a, b = ember.ones(2, 3, dtype=ember.float64), ember.ones(3, dtype=ember.float32)
    out = ember.einsum("dk,k->dk", a, b)
    assert out.dtype == ember.float64 and out.tolist() == [[1.0] * 3] * 2
    assert ember.einsum("dk,k->dk", a, b.to(ember.int64)).dtype == ember.float64
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        ember.einsum("dk,k->d", a, b)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        ember.einsum("k,dk->d", b, a)
    x, y = ember.randn(2, 3, dtype=ember.float64, requires_grad=True), ember.randn(4, dtype=ember.float64)
    outer = ember.einsum("bi,j->bij", x, y)
    assert outer.is_contiguous() and outer.shape == (2, 3, 4)
    assert ember.allclose(outer, x[:, :, None] * y)
    assert ember.autograd.gradcheck(lambda t: ember.einsum("bi,j->bij", t, y), (x,))


@pytest.mark.parametrize(
    "value, name", [(None, "NoneType"), ("a", "str"), (object(), "object"), (2, None), ([2, 2, 2], None)]
)
def test_assigning_what_is_not_a_number_or_tensor_raises_type_error(value, name):
    z = ember.zeros(3)
    if name is None:  # a number, or a sequence (which ember converts; PyTorch refuses it)
        z[:] = value
        assert z.tolist() == [2.0] * 3
        return
    with pytest.raises(TypeError, match=f"can't assign a {name} to a ember.FloatTensor"):
        z[:] = value
    with pytest.raises(TypeError, match=f"can't assign a {name} to a ember.LongTensor"):
        ember.zeros(2, dtype=ember.int64)[0] = value


def test_out_of_range_integer_index_names_its_place_in_the_index():
    """PyTorch names the integer's position in the index tuple (ember named the dim of the view left after
    the earlier integers: "dimension 0" for x[0, 3])."""
    z = ember.zeros(2, 3, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        z[0, 3]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 2 with size 4"):
        z[0, 1, 7]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        z[..., -5]
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 1 with size 2"):
        z[None, 2]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 2 with size 4"):
        z[:, [0, 1], 4]
    assert z[None, 1, ..., -1].shape == (1, 3)


def test_bmm_of_a_sparse_coo_batch_and_a_dense_batch():
    """torch-harmonics' DISCO convolution multiplies a 3-D sparse batch by a dense one."""
    rng = np.random.default_rng(0)
    dense_a = rng.normal(size=(3, 4, 5)) * (rng.random((3, 4, 5)) < 0.4)
    sparse = ember.tensor(dense_a).to_sparse()
    b = ember.tensor(rng.normal(size=(3, 5, 2)), requires_grad=True)
    out = ember.bmm(sparse, b)
    np.testing.assert_allclose(out.detach().numpy(), dense_a @ b.detach().numpy(), rtol=1e-12)
    assert sparse.bmm(b).shape == (3, 4, 2)
    out.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.swapaxes(dense_a, 1, 2) @ np.ones((3, 4, 2)), rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[3, 5\] but got: \[2, 5\]"):
        ember.bmm(sparse, ember.ones(2, 5, 2, dtype=ember.float64))


@pytest.mark.parametrize(
    "fn, shape, expected",
    [
        ("vstack", (1, 4, 3), (1, 4, 3)),
        ("vstack", (2, 3), (2, 3)),
        ("row_stack", (3,), (1, 3)),
        ("hstack", (2, 3), (2, 3)),
        ("hstack", (3,), (3,)),
        ("dstack", (2, 3), (2, 3, 1)),
        ("dstack", (), (1, 1, 1)),
    ],
)
def test_stacking_a_list_of_one_tensor(fn, shape, expected):
    """A one-element list (neuralforecast's vstack of its forecasts): ember split the tensor into its rows."""
    x = ember.arange(float(np.prod(shape, dtype=int))).reshape(shape)
    out = getattr(ember, fn)([x])
    assert out.shape == expected
    assert out.flatten().tolist() == x.flatten().tolist()
    numpy_fn = getattr(np, {"row_stack": "vstack"}.get(fn, fn))  # numpy deprecates its row_stack
    assert getattr(ember, fn)((x, x)).shape == numpy_fn((x.numpy(), x.numpy())).shape


def test_distribution_without_support_warns_instead_of_validating():
    """PyTorch warns and skips the support check (gluonts' ISQF cdf goes through a TransformedDistribution)."""

    class NoSupport(ember.distributions.Distribution):
        arg_constraints = {}

        def __init__(self):
            super().__init__(batch_shape=ember.Size([2]), validate_args=True)

        def cdf(self, value):
            return value.clamp(0, 1)

    dist = ember.distributions.TransformedDistribution(NoSupport(), [ember.distributions.AffineTransform(0.0, 2.0)])
    with pytest.warns(UserWarning, match="does not define `support` to enable sample validation"):
        assert dist.cdf(ember.tensor([0.5, 1.0])).tolist() == [0.25, 0.5]


def test_cudnn_flag_accessors_of_c():
    """torch._C._get_cudnn_enabled & co. read the backends' flags (pytorch-forecasting asserts on one)."""
    assert ember._C._get_cudnn_enabled() is True and ember._C._has_cudnn is False
    with ember.backends.cudnn.flags(enabled=False, deterministic=True):
        assert ember._C._get_cudnn_enabled() is False and ember._C._get_cudnn_deterministic() is True
    assert ember._C._get_cudnn_enabled() is True
    ember._C._set_cudnn_benchmark(True)
    try:
        assert ember.backends.cudnn.benchmark is True
    finally:
        ember._C._set_cudnn_benchmark(False)
    assert ember._C._get_mkldnn_enabled() is True


def test_cpu_autocast_runs_recurrent_layers_prelu_transposed_convs_and_vecdot_in_lower_precision():
    """On PyTorch's CPU lower-precision list (an LSTM raised on mixed dtypes, a GRU refused the autocast input,
    the others returned float32)."""
    F = ember.nn.functional
    x = ember.ones(1, 2, 4, requires_grad=True)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        lstm = ember.nn.LSTM(4, 3)
        out = lstm(x)[0]
        assert out.dtype == ember.bfloat16
        assert ember.nn.GRU(3, 3)(ember.nn.Linear(4, 3)(x))[0].dtype == ember.bfloat16
        assert ember.nn.RNN(4, 3, num_layers=2, bidirectional=True)(x)[0].dtype == ember.bfloat16
        assert F.prelu(x, ember.full((2,), 0.1)).dtype == ember.bfloat16
        assert ember.nn.ConvTranspose1d(2, 2, 3)(x).dtype == ember.bfloat16
        assert ember.linalg.vecdot(x, x).dtype == ember.bfloat16
        assert ember._C._is_any_autocast_enabled()
    out.float().sum().backward()
    assert lstm.weight_hh_l0.grad.dtype == ember.float32 and x.grad.dtype == ember.float32
    assert not ember._C._is_any_autocast_enabled()
    with pytest.raises(ValueError, match="does not match weight dtype"):
        ember.nn.LSTM(4, 3)(x.detach().bfloat16())


@pytest.mark.parametrize("dtype", [ember.bfloat16, ember.float16])
def test_half_convolutions_with_bias_and_linear_upsampling_round_once(dtype):
    """PyTorch adds the bias (and sums the taps) in float32 and rounds once; ember rounded the product first,
    and differed from that in about a third of the elements."""
    F = ember.nn.functional
    g = ember.Generator().manual_seed(0)

    def randn(*shape):
        return ember.randn(*shape, generator=g).to(dtype)

    x, w, b = randn(16, 4, 16), randn(8, 4, 3), randn(8)
    cases = [
        (F.conv1d, (x, w, b)),
        (F.conv2d, (randn(4, 4, 9, 9), randn(8, 4, 3, 3), b)),
        (F.conv_transpose1d, (randn(16, 8, 16), w, randn(4))),
        (lambda t: F.interpolate(t, size=16, mode="linear"), (randn(16, 1, 5),)),
        (lambda t: F.interpolate(t, size=(9, 7), mode="bilinear"), (randn(2, 2, 5, 5),)),
    ]
    for fn, args in cases:
        out = fn(*args)
        assert out.dtype == dtype
        once = fn(*(a.float() for a in args)).to(dtype)
        assert ember.equal(out, once)


def test_load_with_a_pickle_module_defaults_to_a_full_unpickling():
    """PyTorch's weights_only default is False when the caller names a pickle_module (poutyne's checkpoints)."""
    import io
    import pickle

    buffer = io.BytesIO()
    ember.save({"w": ember.ones(2), "epoch": 3}, buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, pickle_module=pickle)
    assert loaded["epoch"] == 3 and loaded["w"].tolist() == [1.0, 1.0]
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        ember.load(buffer, pickle_module=pickle, weights_only=True)


def test_autograd_grad_of_a_dict_of_inputs_gives_a_dict():
    """PyTorch 2.13 returns the gradients under the inputs' keys (torchopt's FuncOptimizer passes a dict)."""
    import types

    x, y = ember.ones(2, requires_grad=True), ember.full((2,), 3.0, requires_grad=True)
    grads = ember.autograd.grad((x * y).sum(), {"a": x, "b": y})
    assert list(grads) == ["a", "b"] and grads["a"].tolist() == [3.0, 3.0] and grads["b"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="must be a dict, not mappingproxy"):
        ember.autograd.grad((x * y).sum(), types.MappingProxyType({"a": x}))
    with pytest.raises(RuntimeError, match="all inputs have to be Tensors or GradientEdges, but got int"):
        ember.autograd.grad((x * y).sum(), {"a": 1})


def test_unused_input_error_names_its_index():
    x, z = ember.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to not have been used"):
        ember.autograd.grad((x * 2).sum(), (x, z))


def test_arange_of_float_bounds_into_an_integer_dtype():
    """PyTorch truncates start and step to the integer dtype, and counts from the truncated bounds for int64,
    from the float bounds otherwise (pypose's cumulative ops build their index so)."""
    assert ember.arange(3.5, dtype=ember.int64).tolist() == [0, 1, 2]
    assert ember.arange(3.5, dtype=ember.int32).tolist() == [0, 1, 2, 3]
    assert ember.arange(-2.5, 2.5, dtype=ember.int64).tolist() == [-2, -1, 0, 1]
    assert ember.arange(-2.5, 2.5, dtype=ember.int32).tolist() == [-2, -1, 0, 1, 2]
    assert ember.arange(-2.5, 2.5, dtype=ember.uint8).tolist() == [254, 255, 0, 1, 2]
    assert ember.arange(0.5, 4, 1.5, dtype=ember.int32).tolist() == [0, 1, 2]
    assert ember.arange(5, 0.5, -1.5, dtype=ember.int64).tolist() == [5, 4, 3, 2, 1]
    assert ember.arange(0, 5, 0.5, dtype=ember.int16).tolist() == [0] * 10
    with pytest.raises(ValueError, match="step must be nonzero"):
        ember.arange(0, 5, 0.5, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
        ember.arange(1.5, 0.5, dtype=ember.int32)
    assert ember.arange(0, 3, dtype=ember.int32).tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="unsupported range: 0.5 -> nan"):
        ember.arange(0.5, float("nan"), dtype=ember.int32)
    with pytest.raises(RuntimeError, match="unsupported range: 0.5 -> inf"):
        ember.arange(0.5, float("inf"), dtype=ember.int64)


def test_manual_seed_returns_the_default_generator():
    generator = ember.manual_seed(7)
    assert generator is ember.default_generator and generator.initial_seed() == 7


def test_sparse_products_write_out():
    """out= of a sparse matrix times a dense one was ignored (pypose's CG solver then read stale values)."""
    dense = ember.tensor([[1.0, 0.0], [0.0, 2.0]])
    for sparse in (dense.to_sparse(), dense.to_sparse_csr()):
        q = ember.full((2,), 7.0)
        assert ember.matmul(sparse, ember.tensor([3.0, 2.0]), out=q) is q and q.tolist() == [3.0, 4.0]
        m = ember.full((2, 2), 7.0)
        ember.mm(sparse, dense, out=m)
        assert m.tolist() == [[1.0, 0.0], [0.0, 4.0]]
        ember.addmm(dense, sparse, dense, out=m)
        assert m.tolist() == [[2.0, 0.0], [0.0, 6.0]]


def test_tensor_of_a_list_holding_tensors():
    """A tensor inside a list is one number, and the result's dtype is the elements' promoted (numpy kept a
    one-element tensor's dims, and float64 elements made a float32 tensor)."""
    t1, t0 = ember.tensor([2.0]), ember.tensor(3.0)
    assert ember.tensor([t1, t1]).shape == (2,)
    assert ember.tensor([[1.0, t1], [t1, 1.0]]).tolist() == [[1.0, 2.0], [2.0, 1.0]]
    assert ember.tensor([t0, t1]).tolist() == [3.0, 2.0]
    assert ember.tensor([[t1], [t1]]).shape == (2, 1)
    assert ember.tensor([ember.ones(1, 1), ember.ones(1, 1)]).shape == (2,)
    assert ember.tensor([ember.tensor(1.0, dtype=ember.float64), 2.0]).dtype == ember.float64
    assert ember.tensor([ember.tensor(1, dtype=ember.int32)]).dtype == ember.int32
    assert ember.tensor([ember.tensor(1, dtype=ember.int32), 2]).dtype == ember.int64
    assert ember.tensor([ember.tensor(1.5, dtype=ember.float16), 2]).dtype == ember.float16
    assert ember.tensor([ember.tensor(True), 1.5]).dtype == ember.float32
    assert ember.tensor([ember.tensor(1.0, dtype=ember.float64)], dtype=ember.float32).dtype == ember.float32


def test_sgd_steps_a_subclass_parameter_through_its_torch_function():
    """PyTorch's single-tensor SGD calls add_ on the parameter, so a subclass that retracts in add_ (pypose's
    manifold parameters) stays on its manifold; ember's fused step bypassed it."""

    class Normalised(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            result = super().__torch_function__(func, types, args, kwargs or {})
            if getattr(func, "__name__", "") == "add_":
                with ember.no_grad():
                    args[0].div_(args[0].norm())
            return result

    for momentum, nesterov in [(0.0, False), (0.9, False), (0.9, True)]:
        q = ember.Tensor._make_subclass(Normalised, ember.tensor([1.0, 0.0, 0.0]), True)
        opt = ember.optim.SGD([q], lr=0.5, momentum=momentum, nesterov=nesterov, weight_decay=0.1)
        for _ in range(2):
            q.grad = ember.tensor([0.0, -1.0, 0.0])
            opt.step()
        assert abs(q.detach().norm().item() - 1.0) < 1e-6
    plain = ember.nn.Parameter(ember.tensor([1.0, 0.0, 0.0]))
    reference = ember.tensor([1.0, 0.0, 0.0])
    opt = ember.optim.SGD([plain], lr=0.5, momentum=0.9, weight_decay=0.1)
    buf = None
    for _ in range(2):
        plain.grad = ember.tensor([0.0, -1.0, 0.0])
        opt.step()
        grad = plain.grad + 0.1 * reference
        buf = grad if buf is None else 0.9 * buf + grad
        reference = reference - 0.5 * buf
    assert ember.allclose(plain.detach(), reference)


def test_layout_queries_under_vmap():
    """Each example's view answers is_contiguous/stride/storage_offset, as PyTorch's batched tensors (F.linear
    asks is_contiguous, which failed under vmap: laplace's sequence models)."""
    seen = []

    def f(t):
        seen.append((t.is_contiguous(), t.stride(), t.storage_offset(), t.is_inference()))
        return t * 2

    ember.func.vmap(f)(ember.ones(4, 3))
    ember.func.vmap(f, in_dims=1)(ember.ones(4, 3))
    assert seen == [(True, (1,), 0, False), (False, (3,), 0, False)]
    w, b = ember.ones(5, 3), ember.zeros(5)
    out = ember.func.vmap(lambda t: ember.nn.functional.linear(t, w, b))(ember.ones(4, 2, 3, 3))
    assert out.shape == (4, 2, 3, 5) and out.sum().item() == 4 * 2 * 3 * 5 * 3


def test_lstsq_gels_refuses_a_tall_matrix_of_deficient_rank():
    """LAPACK's gels fails on an exactly zero diagonal entry of R, and PyTorch raises its LinAlgError (pypose's
    solvers catch it); ember gave the minimum-norm solution."""
    A = ember.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    b = ember.ones(4, 1)
    with pytest.raises(ember.linalg.LinAlgError, match=r"does not have full rank \(error code: 3\)"):
        ember.linalg.lstsq(A, b, driver="gels")
    solution = ember.linalg.lstsq(A[:, :2], b, driver="gels").solution
    np.testing.assert_allclose(solution.numpy(), np.linalg.lstsq(A[:, :2].numpy(), b.numpy(), rcond=None)[0], rtol=1e-5)
    assert ember.linalg.lstsq(A, b).solution.shape == (3, 1)  # gelsy, the default, takes it


@pytest.mark.parametrize("optimizer", ["Adam", "AdamW"])
@pytest.mark.parametrize(
    "options", [{}, {"weight_decay": 0.1}, {"amsgrad": True, "weight_decay": 0.1, "maximize": True}]
)
def test_adam_steps_a_subclass_parameter_through_its_torch_function(optimizer, options):
    """The subclass sees PyTorch's single-tensor ops (lerp_, mul_, addcmul_, addcdiv_), with the fused step's
    values."""
    seen = set()

    class Seen(ember.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.add(getattr(func, "__name__", "?"))
            return super().__torch_function__(func, types, args, kwargs or {})

    rng = np.random.default_rng(0)
    q = ember.Tensor._make_subclass(Seen, ember.ones(3, dtype=ember.float64), True)
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt_q, opt_p = (getattr(ember.optim, optimizer)([t], lr=0.1, **options) for t in (q, p))
    for _ in range(4):
        grad = ember.tensor(rng.normal(size=3))
        q.grad, p.grad = grad.clone(), grad.clone()
        opt_q.step()
        opt_p.step()
    assert {"lerp_", "mul_", "addcmul_", "addcdiv_"} <= seen
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-14, atol=1e-15)


def test_subclass_methods_after_an_op_on_a_real_and_a_complex_tensor():
    """A real tensor plus a complex one (the complex dispatcher answers it) left the call's refusal for
    __torch_function__ set, and every later requires_grad_ of a subclass instance raised "incompatible
    function arguments" (found when this file ran after tests/test_complex.py)."""

    class Plain(ember.Tensor):
        pass

    real = ember.ones(2, dtype=ember.float64, requires_grad=True)
    total = real + ember.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    assert total.dtype == ember.complex128
    instance = ember.Tensor._make_subclass(Plain, ember.ones(3), True)
    assert type(instance) is Plain and instance.requires_grad
    assert instance.requires_grad_(False) is instance and not instance.requires_grad
