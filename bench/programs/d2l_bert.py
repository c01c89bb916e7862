"""d2l 0.17 ch. 14.8-14.10: BERT pretraining (d2l.BERTModel, d2l.load_data_wiki, the chapter's loop)."""

import random

import torch
from d2l import torch as d2l
from synthetic import wikitext_dir
from torch import nn

random.seed(0)
d2l.download_extract = lambda name, folder=None: wikitext_dir()  # the data download step only
d2l.get_dataloader_workers = lambda: 0
batch_size, max_len = 32, 32
train_iter, vocab = d2l.load_data_wiki(batch_size, max_len)


def build():
    torch.manual_seed(0)
    return d2l.BERTModel(len(vocab), num_hiddens=64, norm_shape=[64], ffn_num_input=64, ffn_num_hiddens=128,
                         num_heads=2, num_layers=2, dropout=0.1, key_size=64, query_size=64, value_size=64,
                         hid_in_features=64, mlm_in_features=64, nsp_in_features=64, max_len=max_len)


def example():
    tokens = torch.tensor([[(i * 3 + j) % len(vocab) for j in range(max_len)] for i in range(2)])
    segments = torch.tensor([[0] * (max_len // 2) + [1] * (max_len // 2)] * 2)
    valid_lens = torch.tensor([max_len, max_len - 5])
    pred_positions = torch.tensor([[1, 5, 2], [6, 1, 5]])
    return tokens, segments, valid_lens, pred_positions


def forward(net, tokens, segments, valid_lens, pred_positions):
    with torch.no_grad():
        return net(tokens, segments, valid_lens, pred_positions)


def train(net):
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.Adam(net.parameters(), lr=0.01)
    losses, step = [], 0
    while step < 12:
        for tokens_X, segments_X, valid_lens_x, pred_positions_X, mlm_weights_X, mlm_Y, nsp_y in train_iter:
            trainer.zero_grad()
            mlm_l, nsp_l, l = d2l._get_batch_loss_bert(net, loss, len(vocab), tokens_X, segments_X,
                                                       valid_lens_x, pred_positions_X, mlm_weights_X,
                                                       mlm_Y, nsp_y)
            l.backward()
            trainer.step()
            losses.append(float(mlm_l))
            step += 1
            if step == 12:
                break
    return [sum(losses[:3]) / 3, sum(losses[-3:]) / 3]
