"""ember.nn.attention (sdpa_kernel, SDPBackend) and ember.backends.cuda's switches, as PyTorch's:
scaled_dot_product_attention obeys the enabled set, and the flags come back after each block."""

import warnings

import numpy as np
import pytest

import ember
import ember.backends.cuda as backends_cuda
from ember.nn.attention import SDPBackend, sdpa_kernel
from ember.nn.functional import scaled_dot_product_attention

SWITCHES = {
    SDPBackend.FLASH_ATTENTION: backends_cuda.flash_sdp_enabled,
    SDPBackend.EFFICIENT_ATTENTION: backends_cuda.mem_efficient_sdp_enabled,
    SDPBackend.MATH: backends_cuda.math_sdp_enabled,
    SDPBackend.CUDNN_ATTENTION: backends_cuda.cudnn_sdp_enabled,
}


def enabled():
    return {backend for backend, is_on in SWITCHES.items() if is_on()}


def qkv(device="cpu"):
    ember.manual_seed(0)
    return [ember.randn(2, 3, 4, 5, dtype=ember.float64, device=device) for _ in range(3)]


def reference(q, k, v):
    q, k, v = (t.cpu().numpy() for t in (q, k, v))
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)) @ v


def test_every_backend_starts_enabled_and_sdpa_kernel_restores_them():
    assert enabled() == set(SWITCHES)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION) as context:
        assert context == {} and enabled() == {SDPBackend.FLASH_ATTENTION}
        with sdpa_kernel([SDPBackend.MATH, SDPBackend.MATH, SDPBackend.CUDNN_ATTENTION]):
            assert enabled() == {SDPBackend.MATH, SDPBackend.CUDNN_ATTENTION}
        assert enabled() == {SDPBackend.FLASH_ATTENTION}
    assert enabled() == set(SWITCHES)
    with pytest.raises(RuntimeError, match="boom"), sdpa_kernel(SDPBackend.MATH):
        raise RuntimeError("boom")
    assert enabled() == set(SWITCHES)
    with pytest.raises(AssertionError, match="must be an instance of SDPBackend or a list of SDPBackend instances"):
        with sdpa_kernel("math"):
            pass


def test_sdpa_runs_under_the_cpus_backends_and_refuses_when_none_is_left():
    q, k, v = qkv()
    for backends in ([SDPBackend.MATH], SDPBackend.FLASH_ATTENTION, [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
        with sdpa_kernel(backends):
            np.testing.assert_allclose(scaled_dot_product_attention(q, k, v).numpy(), reference(q, k, v), rtol=1e-12)
    for backends in ([SDPBackend.EFFICIENT_ATTENTION], [SDPBackend.CUDNN_ATTENTION], []):
        with (
            sdpa_kernel(backends),
            pytest.raises(RuntimeError, match="No viable backend for scaled_dot_product_attention"),
        ):
            scaled_dot_product_attention(q, k, v)


@pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")
def test_on_cuda_every_backend_runs_sdpa():
    q, k, v = qkv("cuda")
    for backend in (SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION, SDPBackend.MATH):
        with sdpa_kernel(backend):
            np.testing.assert_allclose(scaled_dot_product_attention(q, k, v).cpu().numpy(), reference(q, k, v), 1e-12)
    with sdpa_kernel([]), pytest.raises(RuntimeError, match="No viable backend"):
        scaled_dot_product_attention(q, k, v)


def test_backends_cuda_switches_and_the_deprecated_sdp_kernel():
    try:
        backends_cuda.enable_math_sdp(False)
        backends_cuda.enable_flash_sdp(False)
        assert enabled() == {SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION}
        with pytest.raises(RuntimeError, match="No viable backend"):
            scaled_dot_product_attention(*qkv())
    finally:
        backends_cuda.enable_math_sdp(True)
        backends_cuda.enable_flash_sdp(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with backends_cuda.sdp_kernel(enable_math=False, enable_cudnn=False):
            assert enabled() == {SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION}
    assert caught[0].category is FutureWarning and "sdp_kernel()` is deprecated" in str(caught[0].message)
    assert caught[0].filename == __file__
    assert enabled() == set(SWITCHES)


def test_backend_enum_library_preferences_and_capability_checks():
    assert str(SDPBackend.MATH) == "SDPBackend.MATH" and int(SDPBackend.EFFICIENT_ATTENTION) == 2
    assert SDPBackend.MATH != 0 and SDPBackend.ERROR.value == -1
    assert backends_cuda.is_built() == ember.cuda.is_built()
    assert repr(backends_cuda.preferred_linalg_library()) == "_LinalgBackend.Default"
    try:
        assert repr(backends_cuda.preferred_blas_library("cublaslt")) == "_BlasBackend.Cublaslt"
        assert repr(backends_cuda.preferred_blas_library()) == "_BlasBackend.Cublaslt"
        with pytest.raises(RuntimeError, match="Unknown input value"):
            backends_cuda.preferred_blas_library("mkl")
    finally:
        backends_cuda.preferred_blas_library("cublas")
    params = backends_cuda.SDPAParams(*qkv(), None, 0.0, False, False)
    assert not backends_cuda.can_use_flash_attention(params) and not backends_cuda.can_use_efficient_attention(params)
    assert not backends_cuda.can_use_cudnn_attention(params) and not backends_cuda.is_flash_attention_available()
    assert not backends_cuda.fp16_bf16_reduction_math_sdp_allowed()


def test_flags_against_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend as TorchBackend
    from torch.nn.attention import sdpa_kernel as torch_sdpa_kernel

    assert {b.name: b.value for b in SDPBackend} == {name: int(b) for name, b in TorchBackend.__members__.items()}
    q = torch.randn(2, 3, 4, 5)
    for chosen in (["MATH"], ["FLASH_ATTENTION"], ["EFFICIENT_ATTENTION"], ["CUDNN_ATTENTION"]):
        outcomes = []
        for sdpa, kernel, backend, x in (
            (torch.nn.functional.scaled_dot_product_attention, torch_sdpa_kernel, TorchBackend, q),
            (scaled_dot_product_attention, sdpa_kernel, SDPBackend, ember.tensor(q.numpy())),
        ):
            with kernel([backend.__members__[name] for name in chosen]):
                try:
                    sdpa(x, x, x)
                    outcomes.append("ran")
                except RuntimeError as e:
                    outcomes.append(str(e))
        assert outcomes[0] == outcomes[1], chosen
