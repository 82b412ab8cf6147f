"""The short-time Fourier transform and its inverse, as PyTorch's ``stft`` and ``istft``: frames of the
signal (``unfold``), windowed, through ``ember.fft`` (Note [Fourier transforms]); the inverse overlaps and
adds the frames with ``fold`` and divides by the summed squared window. Both are differentiable."""

from __future__ import annotations

import warnings

from ._C import Tensor

__all__ = ["istft", "stft"]


def _window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor, op: str) -> Tensor:
    """The window padded on both sides to n_fft, as PyTorch centres a shorter one."""
    from ._creation import ones

    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but got window with size "
            f"{list(window.shape)}"
        )
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        from .nn.functional import pad

        window = pad(window, (left, n_fft - win_length - left))
    return window


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
) -> Tensor:
    """The short-time Fourier transform: the spectrum of each window of ``input`` (1-D, or 2-D batched),
    shaped (batch, frequencies, frames); ``return_complex`` must be given for a real input, as in PyTorch."""
    from . import fft
    from .nn.functional import pad

    if return_complex is None and not input.is_complex() and (window is None or not window.is_complex()):
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will further require that "
            "return_complex=True in a future PyTorch release."
        )
    if return_complex is False:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex "
            "tensors for all inputs, and return_complex=False will raise an error.\nNote: you can still call "
            "torch.view_as_real on the complex output to recover the old return format.",
            UserWarning,
            stacklevel=2,
        )
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    if align_to_window and center:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if center:
        x = pad(x.unsqueeze(1), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(1)
    elif align_to_window:  # frames start where the (centred) window starts: the signal shifted by its margin
        left = (n_fft - win_length) // 2
        x = pad(x, (left, n_fft - win_length - left))
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft < {x.shape[-1]}, but got n_fft={n_fft}")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
            "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
            "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    frames = x.unfold(-1, n_fft, hop_length) * _window(window, win_length, n_fft, input, "stft")
    onesided = (
        not (input.is_complex() or (window is not None and window.is_complex())) if onesided is None else onesided
    )
    norm = "ortho" if normalized else "backward"
    spectrum = (fft.rfft if onesided else fft.fft)(frames, norm=norm).transpose(-1, -2)
    spectrum = spectrum if batched else spectrum.squeeze(0)
    if return_complex is False:
        from ._complex import view_as_real

        return view_as_real(spectrum)
    return spectrum


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    """The inverse of stft: the signal whose stft is ``input`` (frequencies, frames), by overlap-add of the
    inverse transforms of the frames, divided by the summed squared window."""
    from . import fft
    from .nn.functional import fold

    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.dim()}")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    batched = input.dim() == 3
    spectrum = input if batched else input.unsqueeze(0)
    n_frames = spectrum.shape[-1]
    onesided = spectrum.shape[-2] != n_fft if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    if onesided:
        frames = fft.irfft(spectrum.transpose(-1, -2), n=n_fft, norm=norm)
    else:
        frames = fft.ifft(spectrum.transpose(-1, -2), n=n_fft, norm=norm)
        frames = frames if return_complex else frames.real
    window = _window(window, win_length, n_fft, frames, "istft")
    frames = frames * window  # (batch, frames, n_fft)
    expected = n_fft + hop_length * (n_frames - 1)

    def overlap_add(columns: Tensor) -> Tensor:  # (batch, n_fft, frames) -> (batch, expected)
        return fold(columns, output_size=(1, expected), kernel_size=(1, n_fft), stride=(1, hop_length)).flatten(1)

    if frames.is_complex():
        from ._complex import complex_from

        signal = complex_from(overlap_add(frames.real.transpose(1, 2)), overlap_add(frames.imag.transpose(1, 2)))
    else:
        signal = overlap_add(frames.transpose(1, 2))
    squared = (window * window).reshape(1, n_fft, 1).expand(1, n_fft, n_frames)
    envelope = overlap_add(squared.contiguous())
    start = n_fft // 2 if center else 0
    end = expected - (n_fft // 2 if center else 0) if length is None else start + length
    end = min(end, expected)
    envelope = envelope[:, start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError(
            f"istft(...): window overlap add min: {float(envelope.abs().min()):.0f} (the window's squares must "
            "overlap-add to nonzero values everywhere: the NOLA condition)"
        )
    signal = signal[:, start:end] / envelope
    if length is not None and signal.shape[-1] < length:
        from .nn.functional import pad

        signal = pad(signal, (0, length - signal.shape[-1]))
    return signal if batched else signal.squeeze(0)


def install() -> None:
    """Tensor.stft and Tensor.istft."""
    Tensor.stft = stft
    Tensor.istft = istft
