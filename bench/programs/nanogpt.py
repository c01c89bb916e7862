"""buildNanoGPT (Karpathy's build-nanogpt as a package): GPT, AdamW parameter groups
(configure_optimizers), warmup + cosine lr schedule (get_lr), DataLoaderLite over token
shards, train_step with gradient clipping, validate() writing a checkpoint, reloaded with
torch.load into a fresh model that must give the same output."""

import glob
import time

import torch
from buildNanoGPT.model import GPT, DataLoaderLite, GPTConfig
from buildNanoGPT.train import DDPConfig, TrainingConfig, create_log_file, get_lr, train_step, validate
from synthetic import pattern_tokens, token_shards

CONFIG = dict(block_size=32, vocab_size=64, n_layer=2, n_head=2, n_embd=32)


def build():
    torch.manual_seed(1337)
    return GPT(master_process=True, config=GPTConfig(**CONFIG))


def example():
    return (torch.from_numpy(pattern_tokens(2, 32, 64, seed=5)),)


def forward(model, idx):
    with torch.no_grad():
        logits, loss = model(idx)
    return logits


def train(model):
    token_shards(vocab=64)
    ddp_cf = DDPConfig()
    train_cf = TrainingConfig(total_batch_size=8 * 32, B=8, T=32, max_lr=3e-3, warmup_steps=3, max_steps=15,
                              val_check_steps=1000, checkpoint_steps=1000)
    train_loader = DataLoaderLite(B=8, T=32, ddp_cf=ddp_cf, split="train")
    val_loader = DataLoaderLite(B=8, T=32, ddp_cf=ddp_cf, split="val")
    log_dir, log_file = create_log_file()
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=6e-4, device_type=ddp_cf.device_type)
    for step in range(train_cf.max_steps):
        train_step(model, optimizer, train_loader, get_lr(step, train_cf), step, time.time(), log_file,
                   train_cf, ddp_cf)
    validate(model, val_loader, train_cf.max_steps - 1, log_dir, log_file, True, train_cf, ddp_cf)
    checkpoint = torch.load(sorted(glob.glob(f"{log_dir}/model_*.pt"))[-1], weights_only=False)
    reloaded = GPT(master_process=True, config=checkpoint["config"])
    reloaded.load_state_dict(checkpoint["model"])
    x = example()[0]
    model.eval()
    reloaded.eval()
    assert torch.allclose(forward(model, x), forward(reloaded, x)), "checkpoint reload changed the output"
    with open(log_file) as f:
        return [float(line.split()[2]) for line in f if " train " in line]
