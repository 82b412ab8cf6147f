"""The transforms the MNIST programs compose, on the uint8 28x28 numpy images of datasets.MNIST."""

import numpy as np
import torch


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x


class ToTensor:
    def __call__(self, image):  # HxW uint8 -> 1xHxW float in [0, 1], as torchvision does
        return torch.from_numpy(image.astype(np.float32)[None] / 255.0)


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, x):
        return (x - self.mean[0]) / self.std[0]


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)
