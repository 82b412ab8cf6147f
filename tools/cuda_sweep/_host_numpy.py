"""For the sweeps: ``.numpy()`` and ``np.asarray`` of a CUDA tensor copy to the host (the tests compare with numpy)."""

import ember


def install() -> None:
    for name in ("numpy", "__array__"):
        original = getattr(ember.Tensor, name)

        def on_host(self, *args, _original=original, **kwargs):
            return _original(self.cpu() if self.is_cuda else self, *args, **kwargs)

        on_host.__doc__ = original.__doc__
        setattr(ember.Tensor, name, on_host)
