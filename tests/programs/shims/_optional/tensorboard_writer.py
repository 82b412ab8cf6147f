"""A no-op ``torch.utils.tensorboard`` for when the ``tensorboard`` package is not installed.

makemore logs its evaluation losses to TensorBoard; the tests read them from stdout instead.
"""


class SummaryWriter:
    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):  # add_scalar, flush, close, ...
        return lambda *args, **kwargs: None
