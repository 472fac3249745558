"""The common base of every hashing method: the method contract, and the image
hashing network backbone -> hash head that every method has."""

import keras
import tensorflow as tf

from tfhash import losses
from tfhash.layers import HashHead
from tfhash.models import contract
from tfhash.retrieval import codes as codes_lib


@keras.saving.register_keras_serializable(package="tfhash")
class HashingModel(keras.Model):
    """Backbone -> HashHead, and the contract every method declares.

    What the training loop, evaluation, export and figures call (and nothing else;
    none of them names a method):

    - `build_from_spec(spec)`: creates every weight of every network from a
      `contract.DataSpec` (methods override `build_networks`).
    - `networks()`: name -> trainable variables; each network gets its own optimizer
      (`build_optimizers`), whose learning-rate schedule spans
      `schedule_steps(name, ...)` steps (a stage's schedule spans that stage).
    - `on_epoch_begin(epoch, context)`: the schedule hook (stage switches,
      annealing, code refreshes). Whatever it changes must be a model weight
      (`add_weight(trainable=False)`), so checkpoints hold it and a resumed run
      continues in the right stage.
    - `train_step(batch, variant)`: runs in replica context; returns logs. A log is
      a replica's share of a global value (summed over replicas) unless its name is
      in `MEAN_LOGS` (averaged); every log is checked for NaN/inf. `variant` is
      `step_variant(step)`, a Python value: the loop compiles one step per variant,
      so a method branches in Python (which network steps now, which stage) instead
      of putting optimizer updates inside `tf.cond`, which TF's distribution
      strategies do not allow.
    - `encoders()`: modality -> `contract.Encoder` (raw input -> {-1, +1} codes);
      `evaluation_tasks()`: (query encoder, database encoder) pairs to score.
    - `figure_maps(images)`: the method's own figures (e.g. attention maps).

    `train_step(batch)`'s loss is this replica's share of the global loss, already
    divided by the global number of pairs/items, so summing over replicas gives
    the loss of one replica on the whole global batch, and the all-reduced
    gradient is that loss's gradient.

    Args:
      backbone: a backbone layer (see `tfhash.backbones`).
      bits: code length.
      head_activation: "linear" or "tanh".
      hidden_units: hidden layer width in the head (0: none).
      head_batch_norm: batch-normalise the code layer's output.
      similarity: label similarity of the pairwise losses, "shared" (1 when a label
        is shared) or "jaccard" (shared / either labels; graded on multi-label data).
      balance_weight: weight of a bit-balance term on the global batch's codes
        (`losses.bit_balance`), against collapse; 0 for none.
    """

    MEAN_LOGS = ()
    REQUIRED_MODALITIES = ("image",)
    HASH_HEAD = True  # False for methods that make codes another way (DOH's ordinal groups)

    def __init__(self, backbone, bits, head_activation="linear", hidden_units=0,
                 head_batch_norm=False, similarity="shared", balance_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        if similarity not in losses.SIMILARITIES:
            raise ValueError(f"similarity must be one of {losses.SIMILARITIES}, got {similarity!r}")
        if float(balance_weight) < 0:
            raise ValueError(f"balance_weight must be >= 0, got {balance_weight}")
        self.similarity = similarity
        self.balance_weight = float(balance_weight)
        self.backbone = backbone
        self.bits = codes_lib.check_bits(bits)
        self.head_activation = head_activation
        self.hidden_units = int(hidden_units)
        self.head_batch_norm = bool(head_batch_norm)
        if self.HASH_HEAD:
            self.head = HashHead(self.bits, head_activation, self.hidden_units,
                                 batch_norm=self.head_batch_norm)
        self._data_spec = None
        self._optimizers = None

    # -- construction from a run config (the method registry calls this) -----------
    @staticmethod
    def common_args(config):
        """The arguments every method reads from a run config: the hash head's and the
        pairwise losses' (`config.loss`)."""
        return dict(bits=config.bits, head_activation=config.model.head_activation,
                    hidden_units=config.model.hidden_units,
                    head_batch_norm=config.model.head_batch_norm,
                    similarity=config.loss.similarity, balance_weight=config.loss.balance_weight)

    @classmethod
    def from_run_config(cls, config, spec):
        """The model a `tfhash-train` config asks for, for data described by `spec`."""
        raise NotImplementedError(f"{cls.__name__} must implement from_run_config")

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
        """Builds the networks on symbolic inputs (no computation)."""
        self.head(self.backbone(spec.symbolic("image"))["features"])

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
        return {"hash": self.backbone.trainable_variables + self.head.trainable_variables}

    def schedule_steps(self, network, steps_per_epoch, epochs):
        """Steps the learning-rate schedule of `network`'s optimizer spans."""
        del network
        return steps_per_epoch * epochs

    def build_optimizers(self, make_optimizer, steps_per_epoch, epochs):
        """One optimizer per network, created and built (all slots exist before the
        first checkpoint). `make_optimizer(schedule_steps)` returns a new optimizer."""
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
            optimizer = make_optimizer(self.schedule_steps(name, steps_per_epoch, epochs))
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

    # -- schedule and logs ----------------------------------------------------------
    def on_epoch_begin(self, epoch, context):
        """Called by the loop before every epoch (also the first after a resume)."""
        del epoch, context

    def step_variant(self, step):
        """A hashable Python value for the step after `step` steps of the run (read
        eagerly by the loop before each step); it may depend on `step` and on
        checkpointed state only. One variant (None) by default."""
        del step

    def log_reduction(self, name):
        """"mean" for logs averaged over replicas, else "sum" (shares of a total)."""
        return "mean" if name in self.MEAN_LOGS else "sum"

    # -- the image hashing network --------------------------------------------------
    def hash(self, images, training=False):
        """The hashing network: backbone -> head, relaxed codes `(batch, bits)`."""
        features = self.backbone(images, training=training)["features"]
        return self.head(features, training=training)

    def call(self, images, training=False):
        return self.hash(images, training=training)

    def embed_images(self, images):
        """Relaxed codes of raw pixels (uint8 or float in [0, 255]) `[n, S, S, 3]`."""
        return self(tf.cast(images, tf.float32), training=False)

    def encode_images(self, images):
        """{-1, +1} float32 codes `[n, bits]` of raw pixels."""
        return codes_lib.binarize(self.embed_images(images))

    def encode(self, images):
        """The image encoder's codes (`encode_images`)."""
        return self.encode_images(images)

    # -- what evaluation, export and figures read -----------------------------------
    def _spec(self):
        if self._data_spec is None:
            raise ValueError(f"{type(self).__name__} was not built from a DataSpec "
                             "(build_from_spec); encoders need its input sizes")
        return self._data_spec

    def encoders(self):
        """Modality -> `contract.Encoder`."""
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

    def figure_maps(self, images):
        """Name -> `contract.Maps` over uint8 query images (none by default)."""
        del images
        return {}

    # -- the loss -------------------------------------------------------------------
    def compute_hash_loss(self, codes, batch):
        """Returns `(loss, logs)`: this replica's share of the global loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_hash_loss")

    def train_step(self, batch, variant=None):
        del variant
        variables = self.networks()["hash"]
        with tf.GradientTape() as tape:
            codes = self(batch["image"], training=True)
            loss, logs = self.compute_hash_loss(codes, batch)
        grads = tape.gradient(loss, variables)
        self.optimizers["hash"].apply_gradients(zip(grads, variables))
        return dict(logs, loss=loss)

    def get_config(self):
        config = super().get_config()
        config.update(
            backbone=keras.saving.serialize_keras_object(self.backbone),
            bits=self.bits,
            head_activation=self.head_activation,
            hidden_units=self.hidden_units,
            head_batch_norm=self.head_batch_norm,
            similarity=self.similarity,
            balance_weight=self.balance_weight,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
