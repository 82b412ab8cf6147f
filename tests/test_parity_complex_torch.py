"""Every public function ember shares with PyTorch (torch, nn.functional, linalg, special, fft), called with
complex tensors (one argument, then two): wherever both libraries give a result, the results are equal
(Note [Complex tensors]). This is the net for a function whose Python body would drop imaginary parts or
skip a conjugate; an error where PyTorch computes is allowed (ember says what it lacks), a silently
different number is not."""

import inspect
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# Random results, and symbolic-shape helpers, are not values to compare.
NOT_VALUES = {"empty_like", "rand_like", "randn_like", "normal", "sym_sum", "hash_tensor", "empty", "bernoulli",
              "multinomial", "poisson", "rand", "randn", "randint_like", "dropout", "F.dropout", "F.alpha_dropout",
              "F.feature_alpha_dropout", "F.dropout1d", "F.dropout2d", "F.dropout3d", "alpha_dropout",
              "feature_alpha_dropout", "F.rrelu", "rrelu", "F.gumbel_softmax"}  # fmt: skip
# Stateful or process-wide functions.
SKIP = {"manual_seed", "seed", "set_default_dtype", "set_default_device", "set_printoptions", "set_num_threads",
        "set_num_interop_threads", "load", "save", "compile", "set_grad_enabled", "use_deterministic_algorithms",
        "set_rng_state", "set_float32_matmul_precision", "set_flush_denormal", "set_anomaly_enabled",
        "set_autocast_enabled", "empty_cache", "set_warn_always", "no_grad", "enable_grad", "inference_mode",
        "from_file", "set_default_tensor_type", "autocast", "vmap", "sym_not"}  # fmt: skip
SPACES = {"": (ember, torch), "F.": (ember.nn.functional, torch.nn.functional), "linalg.": (ember.linalg, torch.linalg),
          "special.": (ember.special, torch.special), "fft.": (ember.fft, torch.fft)}  # fmt: skip


def _names():
    names = []
    for prefix, (mine, theirs) in SPACES.items():
        for name in dir(theirs):
            obj = getattr(theirs, name)
            if name.startswith("_") or name in SKIP or not hasattr(mine, name) or not callable(obj):
                continue
            if isinstance(obj, type) or inspect.ismodule(obj) or prefix + name in NOT_VALUES:
                continue
            names.append(prefix + name)
    return names


def _values(lib, result):
    if isinstance(result, lib.Tensor):
        result = result.detach().cpu()
        if lib is torch:
            result = result.resolve_conj().resolve_neg()
        return np.asarray(result.numpy()).astype(complex)
    if isinstance(result, (tuple, list)):
        return [_values(lib, r) for r in result]
    if isinstance(result, (bool, int, float, complex)):
        return complex(result)
    return type(result).__name__


def _same(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _call(lib, name, values, arity):
    prefix, _, short = name.rpartition(".")
    space = SPACES[prefix + "." if prefix else ""][0 if lib is ember else 1]
    args = tuple(lib.tensor(values) for _ in range(arity))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", _values(lib, getattr(space, short)(*args))
        except Exception as error:  # noqa: BLE001 - an error of either library is an outcome to compare
            return "error", type(error).__name__


def test_complex_results_equal_pytorchs_wherever_both_compute():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    different, compared = [], 0
    for name in _names():
        for arity in (1, 2):
            theirs = _call(torch, name, values, arity)
            mine = _call(ember, name, values, arity)
            if theirs[0] == "ok" and mine[0] == "ok":
                compared += 1
                if not _same(mine[1], theirs[1]):
                    different.append(f"{name}/{arity}")
    assert compared > 200  # 237 when written
    assert not different, f"complex results that differ from PyTorch's: {different}"


# Methods that are not values of the tensor: memory, pointers, autograd and random fills.
METHOD_SKIP = {"backward", "register_hook", "retain_grad", "share_memory_", "pin_memory", "record_stream", "numpy",
               "tolist", "item", "storage", "untyped_storage", "data_ptr", "const_data_ptr", "mutable_data_ptr",
               "cuda", "to_sparse", "to_mkldnn", "resize_", "set_", "apply_", "map_", "map2_", "new", "detach_",
               "requires_grad_", "storage_type", "is_pinned", "is_shared", "dim_order", "bernoulli_", "cauchy_",
               "exponential_", "geometric_", "log_normal_", "normal_", "random_", "uniform_", "bernoulli",
               "multinomial", "new_empty", "new_empty_strided", "hash_tensor", "register_post_accumulate_grad_hook",
               "element_size", "get_device", "storage_offset", "nbytes", "itemsize"}  # fmt: skip


def test_complex_tensor_methods_equal_pytorchs_wherever_both_compute():
    rng = np.random.default_rng(4)
    values = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    names = [n for n in dir(torch.Tensor) if not n.startswith("_") and n not in METHOD_SKIP
             and callable(getattr(torch.Tensor, n, None)) and hasattr(ember.Tensor, n)]  # fmt: skip
    different, compared = [], 0
    for name in names:
        for arity in (0, 1):
            outcomes = []
            for lib in (torch, ember):
                args = tuple(lib.tensor(values) for _ in range(arity))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        outcomes.append(("ok", _values(lib, getattr(lib.tensor(values), name)(*args))))
                    except Exception as error:  # noqa: BLE001 - an outcome to compare
                        outcomes.append(("error", type(error).__name__))
            if outcomes[0][0] == outcomes[1][0] == "ok":
                compared += 1
                if not _same(outcomes[1][1], outcomes[0][1]):
                    different.append(f"{name}/{arity}")
    assert compared > 180  # 208 when written
    assert not different, f"complex results that differ from PyTorch's: {different}"
