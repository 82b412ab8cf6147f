"""A synthetic MNIST: ten fixed random 28x28 templates, one per digit, plus noise; FakeData as torchvision's.

Small (MNIST_TRAIN / MNIST_TEST images, from the environment, 512 / 256 by default) so
the programs finish in seconds, and learnable so their losses go down. The same seed
gives the same images under either backend (numpy makes them).
"""

import os

import numpy as np
import torch

_TEMPLATES = np.random.default_rng(0).random((10, 28, 28)) ** 3  # sparse-ish bright strokes


class MNIST:
    def __init__(self, root, train=True, download=False, transform=None, target_transform=None):
        n = int(os.environ.get("MNIST_TRAIN" if train else "MNIST_TEST", 512 if train else 256))
        rng = np.random.default_rng(1 if train else 2)
        self.targets = torch.from_numpy(rng.integers(0, 10, n))
        noise = rng.random((n, 28, 28)) * 0.5
        images = np.clip(_TEMPLATES[self.targets.numpy()] + noise, 0.0, 1.0)
        self.data = torch.from_numpy((images * 255).astype(np.uint8))  # a uint8 tensor, as torchvision's
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index].numpy(), int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class FashionMNIST(MNIST):
    """The same synthetic images: the quickstart tutorial only needs ten learnable classes."""


class FakeData:
    """torchvision's FakeData: random images (HxWxC uint8 here, where torchvision gives PIL images) and
    labels, each drawn from its index, so every epoch sees the same data."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):  # fmt: skip
        self.size, self.image_size, self.num_classes = (
            int(os.environ.get("FAKEDATA_SIZE", size)),
            image_size,
            num_classes,
        )
        self.transform, self.target_transform, self.random_offset = transform, target_transform, random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not 0 <= index < self.size:
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng = np.random.default_rng(index + self.random_offset)
        channels, height, width = self.image_size
        image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        target = int(rng.integers(0, self.num_classes))
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
