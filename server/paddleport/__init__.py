"""paddleport: port PyTorch code to PaddlePaddle."""

__version__ = "0.1.0"
