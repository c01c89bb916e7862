"""d2l 0.17 ch. 17.1: a GAN fitting a 2-D Gaussian (d2l.update_D / d2l.update_G, d2l.load_array).

The reported "loss" is the chapter's own check in numbers: how far the generated
data's mean and covariance are from the real data's.
"""

import torch
from d2l import torch as d2l
from torch import nn

torch.manual_seed(0)
X = torch.normal(0.0, 1, (1000, 2))
A = torch.tensor([[1, 2], [-0.1, 0.5]])
b = torch.tensor([1, 2])
data = torch.matmul(X, A) + b
batch_size = 8
data_iter = d2l.load_array((data,), batch_size)
latent_dim = 2


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net_G = nn.Sequential(nn.Linear(2, 2))
        self.net_D = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 1))


def build():
    torch.manual_seed(0)
    return GAN()


def example():
    return (torch.tensor([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.7]]),)


def forward(gan, Z):
    with torch.no_grad():
        fake = gan.net_G(Z)
        return fake, gan.net_D(fake)


def mismatch(net_G):
    with torch.no_grad():
        fake = net_G(torch.normal(0, 1, size=(1000, latent_dim)))
    real_c = data - data.mean(0)
    fake_c = fake - fake.mean(0)
    cov_r = real_c.T @ real_c / 1000
    cov_f = fake_c.T @ fake_c / 1000
    return float((fake.mean(0) - data.mean(0)).abs().sum() + (cov_f - cov_r).abs().sum())


def train(gan, num_epochs=6, lr_D=0.05, lr_G=0.005):
    net_D, net_G = gan.net_D, gan.net_G
    loss = nn.BCEWithLogitsLoss(reduction='sum')
    for w in net_D.parameters():
        nn.init.normal_(w, 0, 0.02)
    for w in net_G.parameters():
        nn.init.normal_(w, 0, 0.02)
    trainer_D = torch.optim.Adam(net_D.parameters(), lr=lr_D)
    trainer_G = torch.optim.Adam(net_G.parameters(), lr=lr_G)
    losses = [mismatch(net_G)]
    for _ in range(num_epochs):
        metric = d2l.Accumulator(3)
        for (X,) in data_iter:
            batch_size = X.shape[0]
            Z = torch.normal(0, 1, size=(batch_size, latent_dim))
            metric.add(d2l.update_D(X, Z, net_D, net_G, loss, trainer_D),
                       d2l.update_G(Z, net_D, net_G, loss, trainer_G), batch_size)
        losses.append(mismatch(net_G))
    return losses
