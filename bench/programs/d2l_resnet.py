"""d2l 0.17 ch. 13.1/12.6: d2l.resnet18 trained with d2l.train_batch_ch13 (Adam, data loader)."""

import torch
from d2l import torch as d2l
from synthetic import fashion_like
from torch import nn


def build():
    torch.manual_seed(0)
    return d2l.resnet18(10, 1)


def example():
    return (torch.tensor(fashion_like(4, seed=9, size=16)[0]),)


def forward(net, X):
    with torch.no_grad():
        return net(X)


def train(net):
    X, y = fashion_like(128, size=16)
    train_iter = d2l.load_array((torch.tensor(X), torch.tensor(y)), 32)
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.Adam(net.parameters(), lr=1e-3)
    devices = d2l.try_all_gpus()
    losses = []
    for _ in range(2):
        total, n = 0.0, 0
        for features, labels in train_iter:
            l, acc = d2l.train_batch_ch13(net, features, labels, loss, trainer, devices)
            total += float(l)
            n += labels.shape[0]
        losses.append(total / n)
    return losses
