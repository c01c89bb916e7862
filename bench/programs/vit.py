"""vit-pytorch: ViT (einops layers) as in its README, trained on a DataLoader with Adam."""

import torch
from synthetic import fashion_like
from torch.utils.data import DataLoader, TensorDataset
from vit_pytorch import ViT


def build():
    torch.manual_seed(0)
    return ViT(image_size=32, patch_size=8, num_classes=10, dim=64, depth=2, heads=4, mlp_dim=128, channels=1)


def example():
    return (torch.tensor(fashion_like(4, seed=9, size=32)[0]),)


def forward(model, img):
    with torch.no_grad():
        return model(img)


def train(model):
    X, y = fashion_like(512, size=32)
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=32, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(3):
        total = 0.0
        for img, label in loader:
            loss = loss_fn(model(img), label)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total / len(loader))
    return losses
