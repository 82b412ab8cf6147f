"""The transforms the programs compose, on the uint8 numpy images of the shim's datasets (HxW or HxWxC)."""

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
    def __call__(self, image):  # HxW or HxWxC uint8 -> CxHxW float in [0, 1], as torchvision does
        chw = image[None] if image.ndim == 2 else np.ascontiguousarray(image.transpose(2, 0, 1))
        return torch.from_numpy(chw.astype(np.float32) / 255.0)


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
