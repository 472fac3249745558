"""A model with one optimizer per network, from a (resolved) run config."""

import keras

from tfhash import methods, models


def make_optimizer(train_config, schedule_steps, scale=1.0):
    """Adam or SGD (momentum 0.9), with decoupled weight decay when asked; a cosine
    schedule decays over `schedule_steps` steps of this optimizer; `scale` multiplies
    the learning rate (a network's `learning_rate_scale`)."""
    lr = train_config.learning_rate * float(scale)
    if train_config.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, int(schedule_steps)))
    elif train_config.lr_schedule != "constant":
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {train_config.lr_schedule!r}")
    decay = train_config.weight_decay or None
    if train_config.optimizer == "adam":
        return keras.optimizers.AdamW(lr, weight_decay=decay) if decay else keras.optimizers.Adam(lr)
    if train_config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, weight_decay=decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {train_config.optimizer!r}")


def data_spec(config, source, split):
    """What the model is built from."""
    return models.DataSpec.from_source(source, len(split.train), config.data.image_size)


def build_model(config, strategy, spec, steps_per_epoch=1):
    """Model and one optimizer per network, created and built inside the strategy's
    scope from the data description (every weight and slot exists before the first
    checkpoint)."""
    with strategy.scope():
        keras.utils.set_random_seed(config.seed)
        model = methods.build_model(config, spec)
        model.build_from_spec(spec)
        model.build_optimizers(lambda steps, scale=1.0: make_optimizer(config.train, steps, scale),
                               steps_per_epoch, config.train.epochs)
    return model
