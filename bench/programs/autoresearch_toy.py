"""autoresearch-nano: its own CPU smoke-training script (autoresearch.toy_train.toy_train, AdamW)."""

import torch
from autoresearch.config import Config
from autoresearch.model import GPT, GPTConfig
from autoresearch.toy_train import toy_train
from synthetic import pattern_tokens

CFG = Config(max_steps=15, metrics_path="run_metrics.json")


def build():
    torch.manual_seed(CFG.seed)
    return GPT(GPTConfig(vocab_size=CFG.vocab_size, block_size=CFG.block_size, n_layer=CFG.n_layer,
                         n_head=CFG.n_head, n_embd=CFG.n_embd, dropout=CFG.dropout))


def example():
    return (torch.from_numpy(pattern_tokens(2, 16, CFG.vocab_size, seed=5)),)


def forward(model, idx):
    with torch.no_grad():
        return model(idx)[0]


def train(model):
    return toy_train(CFG)["losses"]
