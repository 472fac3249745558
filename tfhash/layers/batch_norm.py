"""Batch-norm statistics measured over a whole pass instead of averaged over the last
steps: a network trained for a few hundred steps leaves its moving averages far
from its batch statistics (momentum 0.99 keeps 0.99^n of the starting values after n
steps), and inference then sees inputs the network was never trained on."""

import keras


def norm_layers(layer):
    """The BatchNormalization layers inside `layer`, in order."""
    return [sub for sub in layer._flatten_layers(include_self=True)
            if isinstance(sub, keras.layers.BatchNormalization)]


def reestimate(forward, norms, batches):
    """Sets the moving mean and variance of `norms` to the means of their batch
    statistics over `batches`: `forward(batch)` runs the network in training mode
    (eagerly) once per batch while each layer's momentum is `i / (i + 1)` for the i-th
    batch, so its moving values become the running means. Returns the batches seen."""
    momenta = [norm.momentum for norm in norms]
    seen = 0
    try:
        for batch in batches:
            for norm in norms:
                norm.momentum = seen / (seen + 1.0)
            forward(batch)
            seen += 1
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
    return seen
