"""An offline stand-in for the parts of torchvision the MNIST programs use.

``datasets.MNIST`` is a small synthetic data set (learnable class templates plus noise)
instead of a download, ``models.resnet18`` is built without weights, and ``utils.save_image`` writes
nothing. It builds its tensors
with whichever ``torch`` the launcher set up, so it serves PyTorch and ember alike.
"""

from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]
