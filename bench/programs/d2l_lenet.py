"""d2l 0.17 ch. 6.6 (LeNet): the book's network trained with d2l.train_ch6 on d2l.load_array loaders."""

import numpy as np
import torch
from d2l import torch as d2l
from synthetic import fashion_like
from torch import nn


def build():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


def example():
    return (torch.tensor(fashion_like(8, seed=9)[0]),)


def forward(net, X):
    with torch.no_grad():
        return net(X)


def mean_loss(net, data_iter):
    loss = nn.CrossEntropyLoss()
    with torch.no_grad():
        return float(np.mean([loss(net(X), y).item() for X, y in data_iter]))


def train(net):
    X, y = fashion_like(768)
    Xt, yt = fashion_like(256, seed=1)
    train_iter = d2l.load_array((torch.tensor(X), torch.tensor(y)), 64)
    test_iter = d2l.load_array((torch.tensor(Xt), torch.tensor(yt)), 64, is_train=False)
    losses = [mean_loss(net, test_iter)]
    # one call: train_ch6 initialises the weights afresh each time, so a second call would
    # measure another start, not further training
    d2l.train_ch6(net, train_iter, test_iter, 4, 0.9, d2l.try_gpu())
    losses.append(mean_loss(net, test_iter))
    return losses
