"""dcgan-pytorch: its Generator/Discriminator (g-mnist / d-mnist) and weights_init in the DCGAN loop.

"Loss" is the discriminator's loss per step window: it falls as D learns to tell fakes apart.
"""

import numpy as np
import torch
from dcgan_pytorch import Discriminator, Generator, weights_init
from synthetic import fashion_like
from torch import nn


class DCGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.netG = Generator.from_name("g-mnist")
        self.netD = Discriminator.from_name("d-mnist")


def build():
    torch.manual_seed(0)
    gan = DCGAN()
    gan.netG.apply(weights_init)
    gan.netD.apply(weights_init)
    return gan


def example():
    return (torch.tensor(np.random.default_rng(4).standard_normal((2, 100, 1, 1)).astype("float32")),)


def forward(gan, noise):
    with torch.no_grad():
        fake = gan.netG(noise)
        return fake, gan.netD(fake)


def train(gan):
    real = torch.tensor(fashion_like(64, size=64)[0]).clamp(-1, 1)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(gan.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(gan.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    losses = []
    for i in range(6):
        batch = real[i * 8:i * 8 + 8]
        noise = torch.randn(8, 100, 1, 1)
        gan.netD.zero_grad()
        out_real = gan.netD(batch).view(-1)
        errD_real = criterion(out_real, torch.full((8,), 1.0))
        fake = gan.netG(noise)
        out_fake = gan.netD(fake.detach()).view(-1)
        errD_fake = criterion(out_fake, torch.full((8,), 0.0))
        (errD_real + errD_fake).backward()
        optD.step()
        gan.netG.zero_grad()
        errG = criterion(gan.netD(fake).view(-1), torch.full((8,), 1.0))
        errG.backward()
        optG.step()
        losses.append(float(errD_real + errD_fake))
    return [sum(losses[:2]) / 2, sum(losses[-2:]) / 2]
