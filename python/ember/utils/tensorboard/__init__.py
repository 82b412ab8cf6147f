"""``SummaryWriter`` for TensorBoard logs, as ``torch.utils.tensorboard``: a thin layer over
the ``tensorboard`` package, which must be installed (``pip install tensorboard``)."""

try:
    import tensorboard
except ImportError as exc:
    raise ImportError(
        "ember.utils.tensorboard needs the `tensorboard` package, which is not installed: "
        "install it with `pip install tensorboard`"
    ) from exc

del tensorboard

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "SummaryWriter"]
