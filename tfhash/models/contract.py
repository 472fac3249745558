"""The method contract's vocabulary: what a method declares and what the loop,
evaluation, export and figures read (../shared/design/ARCHITECTURE.md, "The method
contract").

- `DataSpec`: what a model is built from (no call on a zero image).
- `Encoder`: one per modality, raw input -> {-1, +1} codes.
- `EpochContext`: what a schedule hook sees at the start of every epoch.
- `Maps`: a method's own figure (attention or saliency maps on their own scale).
"""

import dataclasses
from typing import Callable, Optional

import keras
import tensorflow as tf

MODALITIES = ("image", "text")
REDUCTIONS = ("sum", "mean")


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """The data a model is built for.

    Attributes:
      image_size: images are `image_size` x `image_size` x 3.
      num_train: training items (rows of a memory bank, guided codes).
      num_classes: label width.
      text_dim: vocabulary size of the paired texts; 0 when there are none.
      multi_label: whether items may carry several labels (sigmoid rather than
        softmax classification heads).
    """

    image_size: int
    num_train: int
    num_classes: int
    text_dim: int = 0
    multi_label: bool = False

    def __post_init__(self):
        for name in ("image_size", "num_train", "num_classes"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value <= 0:
                raise ValueError(f"DataSpec.{name} must be a positive integer, got {value!r}")
        if isinstance(self.text_dim, bool) or int(self.text_dim) != self.text_dim or self.text_dim < 0:
            raise ValueError(f"DataSpec.text_dim must be an integer >= 0, got {self.text_dim!r}")

    @classmethod
    def from_source(cls, source, num_train, image_size):
        return cls(image_size=int(image_size), num_train=int(num_train),
                   num_classes=int(source.num_classes), text_dim=int(source.text_dim),
                   multi_label=bool(source.multi_label))

    @property
    def modalities(self):
        return ("image",) if not self.text_dim else ("image", "text")

    def input_spec(self, modality):
        """The raw input of `modality`: uint8 pixels or a float32 bag-of-words."""
        if modality == "image":
            return tf.TensorSpec([None, self.image_size, self.image_size, 3], tf.uint8, name="images")
        if modality == "text":
            if not self.text_dim:
                raise ValueError("this data has no text (text_dim is 0)")
            return tf.TensorSpec([None, self.text_dim], tf.float32, name="text")
        raise ValueError(f"unknown modality {modality!r}; expected one of {MODALITIES}")

    def symbolic(self, modality):
        """A symbolic batch of `modality` (float32) to build networks without computing."""
        shape = self.input_spec(modality).shape.as_list()
        return keras.KerasTensor(tuple(shape), dtype="float32")

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Encoder:
    """Raw input of one modality -> codes.

    Attributes:
      modality: "image" or "text" (which input the encoder reads).
      input_spec: the raw input (`DataSpec.input_spec`).
      encode: raw batch -> {-1, +1} float32 `[n, code_bits]`.
      embed: raw batch -> float32 `[n, d]`, the real-valued output the codes come
        from (the relaxed codes; exported as `embedding`).
      code_bits: bits per stored code.
      distance: how stored codes are compared, for the report (Hamming distance
        over the stored bits unless a method says otherwise).
    """

    modality: str
    input_spec: tf.TensorSpec
    encode: Callable
    embed: Callable
    code_bits: int
    distance: str = "hamming"


@dataclasses.dataclass
class EpochContext:
    """What `HashingModel.on_epoch_begin` sees.

    Attributes:
      epoch: 0-based epoch about to run.
      epochs: epochs in the whole run.
      steps_per_epoch: optimizer steps per epoch.
      total_steps: steps in the whole run.
      train_pass: `train_pass(batch_size)` -> a `tf.data.Dataset` over the training
        part in order, without augmentation (uint8 images, texts, labels, `index` =
        the item's row), e.g. to compute guided codes at a stage boundary.
      strategy: the distribution strategy (hooks run outside replica context).
      artifacts: where a method keeps files beside the report (e.g. guided codes):
        `artifacts.keep_arrays(name, arrays)` writes a `.npz` into the run folder
        (atomically, on the chief only); None when the run has no folder.
    """

    epoch: int
    epochs: int
    steps_per_epoch: int
    total_steps: int
    train_pass: Callable
    strategy: Optional[tf.distribute.Strategy] = None
    artifacts: Optional[object] = None


@dataclasses.dataclass(frozen=True)
class Maps:
    """A method's figure: maps over query images.

    Attributes:
      maps: float `[n, H, W]`, one map per image (same size as the images).
      title: the figure's caption.
      vmin, vmax: the colour scale; None scales each map to its own range (a
        spatial softmax sums to 1: a 0-1 scale would show nothing).
    """

    maps: object
    title: str
    vmin: Optional[float] = None
    vmax: Optional[float] = None
