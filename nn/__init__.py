"""chainrule's neural-network library on the `autograd` engine.

Modules and layers (module.py, layers.py, rnn.py), the course notes'
activations and losses (functional.py), initialisation (init.py), optimisers
(optim.py), the training loop (train.py), saving (serialize.py), networks of
scalar `Value`s (scalar.py), and the plain-NumPy classics (classic.py),
hand-derived backprop (reference.py) and data handling (data.py).
"""

from . import classic, data, functional, init, optim, reference, scalar
from .classic import MPNeuron, Perceptron
from .functional import l2_penalty
from .layers import (
    ELU,
    GELU,
    MLP,
    RBF,
    Dropout,
    HardSigmoid,
    HardTanh,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Maxout,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .module import Module, Parameter, Sequential
from .optim import clip_grad_norm_
from .rnn import ElmanRNN
from .serialize import load_state, save
from .train import fit

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "Linear",
    "MLP",
    "Dropout",
    "Maxout",
    "PReLU",
    "RBF",
    "ElmanRNN",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softplus",
    "SiLU",
    "GELU",
    "HardSigmoid",
    "HardTanh",
    "Softmax",
    "LogSoftmax",
    "functional",
    "init",
    "optim",
    "scalar",
    "classic",
    "reference",
    "data",
    "MPNeuron",
    "Perceptron",
    "fit",
    "clip_grad_norm_",
    "l2_penalty",
    "save",
    "load_state",
]
from .energy import RBM, Hopfield
from .graph import GCNConv

__all__ += ["Hopfield", "RBM", "GCNConv"]

from .recurrent import GRU, LSTM, RNN, Embedding, GRUCell, LSTMCell, RNNCell

__all__ += ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Embedding"]

from . import normalization
from .cnn import AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Flatten, LayerNorm, MaxPool2d

__all__ += [
    "Conv2d",
    "Conv1d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "normalization",
]
