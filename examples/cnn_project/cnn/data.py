"""Synthetic data so the example needs no download."""
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loader(n: int = 256, batch_size: int = 32, shuffle: bool = True) -> DataLoader:
    images = torch.randn(n, 3, 32, 32)
    labels = torch.randint(0, 10, (n,))
    return DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=shuffle)
