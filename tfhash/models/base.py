"""The method contract as a base class (`HashingModel`), and `NetworkModel`: a method
whose codes come from one image hashing network trained by one loss (DPSH, DSH)."""

import keras
import tensorflow as tf

from tfhash.layers import nested
from tfhash.models import contract
from tfhash.retrieval import codes as codes_lib


@keras.saving.register_keras_serializable(package="tfhash")
class HashingModel(keras.Model):
    """The method contract: what the training loop, evaluation, export and figures
    call (and nothing else; none of them names a method).

    - `build_from_spec(spec)`: creates every weight of every network from a
      `contract.DataSpec` (methods implement `build_networks`).
    - `networks()`: name -> trainable variables; each network gets its own optimizer
      (`build_optimizers`), whose learning-rate schedule spans
      `schedule_steps(name, ...)` steps (a stage's schedule spans that stage), at
      `learning_rate_scale(name)` times the run's rate.
    - `on_epoch_begin(epoch, context)`: the schedule hook (stage switches,
      annealing, code refreshes); `on_epoch_end(epoch, context)` after the epoch's
      steps, before its checkpoint (e.g. re-estimated batch-norm statistics). Whatever it changes must be a model weight
      (`add_weight(trainable=False)`), so checkpoints hold it and a resumed run
      continues in the right stage. Files it keeps go through `context.artifacts`.
    - `train_step(batch, variant)`: runs in replica context; returns logs. A log is
      a replica's share of a global value (summed over replicas) unless its name is
      in `MEAN_LOGS` (averaged); every log is checked for NaN/inf. `variant` is
      `step_variant(step)`, a Python value: the loop compiles one step per variant,
      so a method branches in Python (which network steps now, which stage) instead
      of putting optimizer updates inside `tf.cond`, which TF's distribution
      strategies do not allow. The loss in the logs is this replica's share of the
      global loss, already divided by the global number of pairs or items.
    - `encoders()`: modality -> `contract.Encoder` (raw input -> {-1, +1} codes);
      `evaluation_tasks()`: (query encoder, database encoder) pairs to score.
    - `figure_maps(images)`: the method's own figures (e.g. attention maps).

    A model is built from its networks and settings (constructor arguments); it
    never reads a run config (`tfhash.methods` turns a config into a model).

    Args:
      bits: code length of the headline codes.
    """

    MEAN_LOGS = ()
    REQUIRED_MODALITIES = ("image",)

    def __init__(self, bits, **kwargs):
        super().__init__(**kwargs)
        self.bits = codes_lib.check_bits(bits)
        self._data_spec = None
        self._optimizers = None

    # -- building -------------------------------------------------------------------
    @property
    def data_spec(self):
        return self._data_spec

    def build_from_spec(self, spec):
        """Creates every weight of every network (none is left to a first call)."""
        missing = [m for m in self.REQUIRED_MODALITIES if m not in spec.modalities]
        if missing:
            raise ValueError(
                f"{type(self).__name__} needs {' and '.join(self.REQUIRED_MODALITIES)} data; the "
                f"source has {', '.join(spec.modalities)} only (a paired source such as "
                "pairs:<file.npz> carries text)")
        self._data_spec = spec
        self.build_networks(spec)
        self.built = True
        unbuilt = [layer.name for layer in self._flatten_layers(include_self=False)
                   if not layer.built]
        if unbuilt:
            raise ValueError(f"{type(self).__name__}.build_networks left layers unbuilt: {unbuilt}")

    def build_networks(self, spec):
        """Builds the networks on symbolic inputs (`spec.symbolic(modality)`; no
        computation)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_networks")

    def get_build_config(self):
        if self._data_spec is not None:
            return {"data_spec": self._data_spec.to_dict()}
        return super().get_build_config()

    def build_from_config(self, config):
        if config and "data_spec" in config:
            self.build_from_spec(contract.DataSpec(**config["data_spec"]))
        else:
            super().build_from_config(config)

    # -- networks and optimizers ----------------------------------------------------
    def networks(self):
        """Network name -> its trainable variables (one optimizer per network)."""
        raise NotImplementedError(f"{type(self).__name__} must implement networks")

    def schedule_steps(self, network, steps_per_epoch, epochs):
        """Steps the learning-rate schedule of `network`'s optimizer spans."""
        del network
        return steps_per_epoch * epochs

    def learning_rate_scale(self, network):
        """`network`'s learning rate as a multiple of the run's (1: the same)."""
        del network
        return 1.0

    def build_optimizers(self, make_optimizer, steps_per_epoch, epochs):
        """One optimizer per network, created and built (all slots exist before the
        first checkpoint). `make_optimizer(schedule_steps)` returns a new optimizer;
        for a network whose `learning_rate_scale` is not 1 it is called as
        `make_optimizer(schedule_steps, scale)`."""
        networks = self.networks()
        owners = {}
        for name, variables in networks.items():
            for v in variables:
                if id(v) in owners:
                    raise ValueError(f"variable {v.path} is in networks {owners[id(v)]!r} and {name!r}")
                owners[id(v)] = name
        orphans = [v.path for v in self.trainable_variables if id(v) not in owners]
        if orphans:
            raise ValueError(f"{type(self).__name__}.networks() leaves trainable variables "
                             f"without an optimizer: {orphans[:5]}")
        optimizers = {}
        for name, variables in networks.items():
            steps, scale = self.schedule_steps(name, steps_per_epoch, epochs), self.learning_rate_scale(name)
            optimizer = make_optimizer(steps) if scale == 1.0 else make_optimizer(steps, scale)
            optimizer.build(variables)
            optimizers[name] = optimizer
        self._optimizers = optimizers

    @property
    def optimizers(self):
        """Network name -> optimizer (after `build_optimizers`)."""
        if self._optimizers is None:
            raise ValueError("build_optimizers() has not been called")
        return self._optimizers

    def optimizer_variables(self):
        """Every optimizer variable, for checkpoints."""
        return [v for optimizer in self.optimizers.values() for v in optimizer.variables]

    def optimize(self, network, tape, loss, variables=None):
        """One optimizer step of `network` on the gradient of `loss` (recorded by
        `tape`) with respect to its variables (or the given subset)."""
        variables = self.networks()[network] if variables is None else variables
        grads = tape.gradient(loss, variables)
        self.optimizers[network].apply_gradients(zip(grads, variables))

    # -- schedule and logs ----------------------------------------------------------
    def on_epoch_begin(self, epoch, context):
        """Called by the loop before every epoch (also the first after a resume)."""
        del epoch, context

    def on_epoch_end(self, epoch, context):
        """Called by the loop after every epoch's steps, before its checkpoint is
        written (what it changes is checkpointed with the epoch)."""
        del epoch, context

    def step_variant(self, step):
        """A hashable Python value for the step after `step` steps of the run (read
        eagerly by the loop before each step); it may depend on `step` and on
        checkpointed state only. One variant (None) by default."""
        del step

    def log_reduction(self, name):
        """"mean" for logs averaged over replicas, else "sum" (shares of a total)."""
        return "mean" if name in self.MEAN_LOGS else "sum"

    def train_step(self, batch, variant=None):
        raise NotImplementedError(f"{type(self).__name__} must implement train_step")

    # -- what evaluation, export and figures read -----------------------------------
    def embed_images(self, images):
        """Relaxed codes of raw pixels (uint8 or float in [0, 255]) `[n, S, S, 3]`."""
        return self(tf.cast(images, tf.float32), training=False)

    def encode_images(self, images):
        """{-1, +1} float32 codes `[n, bits]` of raw pixels."""
        return codes_lib.binarize(self.embed_images(images))

    def encode(self, images):
        """The image encoder's codes (`encode_images`)."""
        return self.encode_images(images)

    def _spec(self):
        if self._data_spec is None:
            raise ValueError(f"{type(self).__name__} was not built from a DataSpec "
                             "(build_from_spec); encoders need its input sizes")
        return self._data_spec

    def encoders(self):
        """Modality -> `contract.Encoder` (an image encoder of `embed_images`)."""
        return {"image": contract.Encoder(
            "image", self._spec().input_spec("image"), encode=self.encode_images,
            embed=self.embed_images, code_bits=self.bits)}

    def text_encoder(self, embed_text):
        """The `contract.Encoder` of a model with a text network: bag-of-words ->
        `embed_text` -> sign codes of `self.bits` bits."""
        return contract.Encoder("text", self._spec().input_spec("text"),
                                encode=lambda t: codes_lib.binarize(embed_text(t)),
                                embed=embed_text, code_bits=self.bits)

    def evaluation_tasks(self):
        """(query encoder, database encoder) pairs; the first is the headline."""
        return [("image", "image")]

    def validation_tasks(self):
        """The tasks whose mean mAP@all is the validation draw's score (what settings
        are chosen on): the headline task unless a method names more."""
        return self.evaluation_tasks()[:1]

    def figure_maps(self, images):
        """Name -> `contract.Maps` over uint8 query images (none by default)."""
        del images
        return {}


@keras.saving.register_keras_serializable(package="tfhash")
class NetworkModel(HashingModel):
    """A method whose codes are one `layers.HashingNetwork`'s, trained on
    `compute_hash_loss(codes, batch)` with one optimizer ("hash").

    Args:
      network: the image hashing network.
    """

    def __init__(self, network, **kwargs):
        super().__init__(network.bits, **kwargs)
        self.network = network

    def build_networks(self, spec):
        self.network(spec.symbolic("image"))

    def networks(self):
        return {"hash": self.network.trainable_variables}

    def call(self, images, training=False):
        return self.network(images, training=training)

    def compute_hash_loss(self, codes, batch):
        """Returns `(loss, logs)`: this replica's share of the global loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_hash_loss")

    def train_step(self, batch, variant=None):
        del variant
        with tf.GradientTape() as tape:
            codes = self(batch["image"], training=True)
            loss, logs = self.compute_hash_loss(codes, batch)
        self.optimize("hash", tape, loss)
        return dict(logs, loss=loss)

    def get_config(self):
        config = super().get_config()
        config.update(network=nested.serialize(self.network))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**nested.deserialize(config, "network"))
