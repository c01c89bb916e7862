"""x-transformers: a decoder-only LM (TransformerWrapper + Decoder) trained through AutoregressiveWrapper."""

import numpy as np
import torch
from synthetic import pattern_tokens
from x_transformers import AutoregressiveWrapper, Decoder, TransformerWrapper

VOCAB, SEQ = 64, 32


def build():
    torch.manual_seed(0)
    model = TransformerWrapper(num_tokens=VOCAB, max_seq_len=SEQ,
                               attn_layers=Decoder(dim=64, depth=2, heads=4, rotary_pos_emb=True))
    return AutoregressiveWrapper(model)


def example():
    return (torch.from_numpy(pattern_tokens(2, SEQ, VOCAB, seed=5)),)


def forward(model, x):
    with torch.no_grad():
        return model.net(x)


def train(model):
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = pattern_tokens(256, SEQ + 1, VOCAB)
    losses = []
    for i in range(30):
        batch = torch.from_numpy(data[np.arange(i * 8, i * 8 + 8) % len(data)])
        loss = model(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optim.step()
        optim.zero_grad()
        losses.append(loss.item())
    return [sum(losses[:5]) / 5, sum(losses[-5:]) / 5]
