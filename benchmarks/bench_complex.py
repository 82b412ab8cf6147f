"""Complex tensors and Fourier transforms: ember beside PyTorch and numpy.

ember's complex tensors run as real tensors of their parts with the complex formulas in Python
(Note [Complex tensors]), and its transforms run numpy's pocketfft (Note [Fourier transforms]); this
measures what that costs against PyTorch's complex kernels. Each library runs in a process of its own.

    python benchmarks/bench_complex.py [--quick] [--json PATH]

Times are microseconds per call: the median over repeats.
"""

import numpy as np
from _harness import run_benchmark

RNG = np.random.default_rng(0)


def _complex(lib, *shape):
    values = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)
    return lib.tensor(values)


def _np_complex(*shape):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex64)


def mul_8(lib):
    a, b = _complex(lib, 8), _complex(lib, 8)
    return lambda: a * b


def np_mul_8():
    a, b = _np_complex(8), _np_complex(8)
    return lambda: a * b


def mul_1m(lib):
    a, b = _complex(lib, 1 << 20), _complex(lib, 1 << 20)
    return lambda: a * b


def np_mul_1m():
    a, b = _np_complex(1 << 20), _np_complex(1 << 20)
    return lambda: a * b


def exp_1m(lib):
    a = _complex(lib, 1 << 20)
    return lambda: lib.exp(a)


def np_exp_1m():
    a = _np_complex(1 << 20)
    return lambda: np.exp(a)


def matmul_256(lib):
    a, b = _complex(lib, 256, 256), _complex(lib, 256, 256)
    return lambda: a @ b


def np_matmul_256():
    a, b = _np_complex(256, 256), _np_complex(256, 256)
    return lambda: a @ b


def rfft_64k(lib):
    x = lib.tensor(RNG.standard_normal(1 << 16).astype(np.float32))
    return lambda: lib.fft.rfft(x)


def np_rfft_64k():
    x = RNG.standard_normal(1 << 16).astype(np.float32)
    return lambda: np.fft.rfft(x)


def fft_1m(lib):
    a = _complex(lib, 1 << 20)
    return lambda: lib.fft.fft(a)


def np_fft_1m():
    a = _np_complex(1 << 20)
    return lambda: np.fft.fft(a)


def rotary_fwd_bwd(lib):
    """LLaMA's rotary embedding on (batch 8, seq 128, heads 8, dim 64) queries, forward and backward."""
    x = lib.tensor(RNG.standard_normal((8, 128, 8, 64)).astype(np.float32), requires_grad=True)
    angles = lib.tensor(RNG.standard_normal((128, 32)).astype(np.float32))
    freqs = lib.polar(lib.ones_like(angles), angles).view(1, 128, 1, 32)

    def run():
        xc = lib.view_as_complex(x.reshape(8, 128, 8, 32, 2))
        out = lib.view_as_real(xc * freqs).flatten(3)
        out.sum().backward()

    return run


def spectral_conv_fwd_bwd(lib):
    """A Fourier neural operator's 1-D spectral convolution (batch 16, 32 channels, 256 points, 16 modes)."""
    x = lib.tensor(RNG.standard_normal((16, 32, 256)).astype(np.float32), requires_grad=True)
    w = _complex(lib, 32, 32, 16).requires_grad_()

    def run():
        ft = lib.fft.rfft(x)
        out = lib.zeros(16, 32, 129, dtype=lib.cfloat)
        out[:, :, :16] = lib.einsum("bix,iox->box", ft[:, :, :16], w)
        lib.fft.irfft(out, n=256).square().mean().backward()

    return run


def spectrogram_fwd_bwd(lib):
    """A power spectrogram (n_fft 400, hop 160, Hann window) of 4 one-second 16 kHz signals, with its gradient."""
    x = lib.tensor(RNG.standard_normal((4, 16000)).astype(np.float32), requires_grad=True)
    window = lib.hann_window(400)

    def run():
        s = lib.stft(x, 400, hop_length=160, window=window, return_complex=True)
        (s.abs() ** 2).log1p().mean().backward()

    return run


CASES = [
    ("z * w, 8 complex64", mul_8, np_mul_8),
    ("z * w, 1M complex64", mul_1m, np_mul_1m),
    ("exp(z), 1M complex64", exp_1m, np_exp_1m),
    ("z @ w, 256x256 complex64", matmul_256, np_matmul_256),
    ("fft.rfft, 64k float32", rfft_64k, np_rfft_64k),
    ("fft.fft, 1M complex64", fft_1m, np_fft_1m),
    ("rotary embedding (8x128x8x64), fwd+bwd", rotary_fwd_bwd, None),
    ("FNO spectral conv 1-D, fwd+bwd", spectral_conv_fwd_bwd, None),
    ("stft power spectrogram (4 x 1 s at 16 kHz), fwd+bwd", spectrogram_fwd_bwd, None),
]


def main(argv=None):
    return run_benchmark(__doc__, CASES, argv, quick=(0.05, 5), full=(0.2, 7))


if __name__ == "__main__":
    main()
