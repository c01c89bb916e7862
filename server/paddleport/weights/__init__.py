"""Pretrained weights: read torch checkpoints without torch, write Paddle ``.pdparams`` tensor by tensor.

Nothing here imports torch or paddle: checkpoints are read by a restricted unpickler over torch's zip
format (``checkpoint``), written by an incremental pickler (``pdparams``), and renamed/reshaped by the
``weights`` field of the layer rules (``layout``). Building the converted model to learn its layout
happens in a child process (``paddleport.kernel.weights_model``).
"""


class CheckpointError(Exception):
    """The checkpoint cannot be read safely or does not fit the model; the message says why and what to do."""
