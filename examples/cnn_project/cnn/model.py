"""A compact residual CNN for 32x32 images."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    """Conv → BatchNorm → ReLU, the unit every stage repeats."""

    def __init__(self, in_chs: int, out_chs: int, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_chs, momentum=0.1)  # torch's default momentum
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class ResidualBlock(nn.Module):
    def __init__(self, chs: int, drop: float = 0.1):
        super().__init__()
        self.block1 = ConvBlock(chs, chs)
        self.block2 = ConvBlock(chs, chs)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        shortcut = x
        x = self.block2(self.block1(x))
        return F.relu(self.drop(x) + shortcut)


class Attention(nn.Module):
    """Single-head self-attention over the spatial positions of a feature map."""

    def __init__(self, dim: int):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, x):
        B, C, H, W = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # B, HW, C
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        attn = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        attn = F.softmax(attn, dim=-1)
        out = self.proj(torch.matmul(attn, v))
        return out.transpose(1, 2).reshape(B, C, H, W)


class SmallNet(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        self.stem = ConvBlock(3, width)
        self.stage1 = nn.Sequential(ResidualBlock(width), ConvBlock(width, width * 2, stride=2))
        self.stage2 = nn.Sequential(ResidualBlock(width * 2), ConvBlock(width * 2, width * 4, stride=2))
        self.attn = Attention(width * 4)
        self.head = nn.Linear(width * 4, num_classes)
        self.init_weights()

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        x = x + self.attn(x)
        x = torch.mean(x, dim=(2, 3))  # global average pool
        return self.head(x)
