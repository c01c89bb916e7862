"""d2l 0.17 ch. 9.2: nn.LSTM language model (d2l.RNNModel) on the time machine, d2l.train_epoch_ch8."""

import torch
from d2l import torch as d2l
from synthetic import time_machine_file
from torch import nn

d2l.download = lambda name, cache_dir=None: time_machine_file()  # the data download step only
batch_size, num_steps = 32, 35
train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)


def build():
    torch.manual_seed(0)
    rnn_layer = nn.LSTM(len(vocab), 64)
    return d2l.RNNModel(rnn_layer, vocab_size=len(vocab))


def example():
    X = torch.tensor([[i % len(vocab) for i in range(j, j + 10)] for j in range(4)])
    return (X,)


def forward(net, X):
    with torch.no_grad():
        state = net.begin_state(batch_size=X.shape[0], device=d2l.try_gpu())
        return net(X, state)


def train(net):
    loss = nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), 1)
    return [d2l.train_epoch_ch8(net, train_iter, loss, updater, d2l.try_gpu(), False)[0] for _ in range(4)]
