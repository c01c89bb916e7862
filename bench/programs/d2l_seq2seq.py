"""d2l 0.17 ch. 9.7: GRU encoder-decoder (d2l.Seq2SeqEncoder + the chapter's decoder), d2l.train_seq2seq."""

import torch
from d2l import torch as d2l
from synthetic import fra_eng_dir
from torch import nn

d2l.download_extract = lambda name, folder=None: fra_eng_dir()  # the data download step only
batch_size, num_steps = 64, 10
train_iter, src_vocab, tgt_vocab = d2l.load_data_nmt(batch_size, num_steps)


class Seq2SeqDecoder(d2l.Decoder):
    """The RNN decoder for sequence to sequence learning (the chapter's code)."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        return enc_outputs[1]

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        X_and_context = torch.cat((X, context), 2)
        output, state = self.rnn(X_and_context, state)
        output = self.dense(output).permute(1, 0, 2)
        return output, state


def build():
    torch.manual_seed(0)
    encoder = d2l.Seq2SeqEncoder(len(src_vocab), 32, 32, 2, 0.1)
    decoder = Seq2SeqDecoder(len(tgt_vocab), 32, 32, 2, 0.1)
    return d2l.EncoderDecoder(encoder, decoder)


def example():
    X = torch.tensor([[(i * 7 + j) % len(src_vocab) for j in range(num_steps)] for i in range(4)])
    Y = torch.tensor([[(i * 5 + j) % len(tgt_vocab) for j in range(num_steps)] for i in range(4)])
    return X, Y


def forward(net, X, Y):
    with torch.no_grad():
        return net(X, Y)[0]


def mean_loss(net):
    loss = d2l.MaskedSoftmaxCELoss()
    total, n = 0.0, 0
    with torch.no_grad():
        for X, X_valid_len, Y, Y_valid_len in train_iter:
            bos = torch.tensor([tgt_vocab['<bos>']] * Y.shape[0]).reshape(-1, 1)
            Y_hat, _ = net(X, torch.cat([bos, Y[:, :-1]], 1), X_valid_len)
            total += float(loss(Y_hat, Y, Y_valid_len).sum())
            n += float(Y_valid_len.sum())
    return total / n


def train(net):
    losses = [mean_loss(net)]
    for _ in range(2):
        d2l.train_seq2seq(net, train_iter, 0.005, 3, tgt_vocab, d2l.try_gpu())
        losses.append(mean_loss(net))
    return losses
