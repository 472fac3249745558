"""`tfds:<name>` sources: TensorFlow Datasets image sets, single- or multi-label."""

import numpy as np
import tensorflow as tf

from tfhash.data import preprocess, sources, tuning


class TfdsSource(sources.Source):
    """All splits of a TFDS image set as one list of items (train first, test last);
    items of the "test" split are the official queries."""

    def __init__(self, name, builder, split_names, image_key, labels, class_names, is_test):
        super().__init__(name, labels, class_names, is_test)
        self._builder = builder
        self._split_names = split_names
        self._image_key = image_key

    def images(self, indices):
        import tensorflow_datasets as tfds

        indices = np.asarray(indices, np.int64)
        if np.any(np.diff(indices) <= 0):
            raise ValueError("tfds sources read items in order: indices must increase")
        wanted = np.zeros(len(self), bool)
        wanted[indices] = True
        wanted = tf.constant(wanted)
        decoders = {self._image_key: tfds.decode.SkipDecoding()}
        parts = [
            self._builder.as_dataset(split=s, shuffle_files=False, decoders=decoders)
            for s in self._split_names
        ]
        stream = parts[0]
        for part in parts[1:]:
            stream = stream.concatenate(part)
        key = self._image_key
        return (
            stream.enumerate()
            .filter(lambda i, ex: wanted[i])
            .map(
                lambda i, ex: preprocess.decode(ex[key]),
                num_parallel_calls=tuning.PARALLEL_CALLS,
            )
        )


def _find_keys(features):
    """The image feature and the label feature; "image" and "label" win when several
    qualify (caltech_birds2011 also has a segmentation-mask image)."""
    import tensorflow_datasets as tfds

    images = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    image_key = "image" if "image" in images else (images[0] if images else None)
    labels = {}
    for key, feature in features.items():
        if isinstance(feature, tfds.features.ClassLabel):
            labels[key] = False
        elif isinstance(feature, tfds.features.Sequence) and isinstance(
            feature.feature, tfds.features.ClassLabel
        ):
            labels[key] = True
    preferred = [k for k in ("label", "labels") if k in labels] + list(labels)
    label_key = preferred[0] if preferred else None
    return image_key, label_key, labels.get(label_key, False)


def _split_order(known):
    """All the builder's splits, train first and test last; train and test when the
    builder has no split metadata (as under tfds.testing.mock_data)."""
    if not known:
        return ["train", "test"]
    first = [s for s in ("train", "validation") if s in known]
    last = [s for s in ("test",) if s in known]
    return first + sorted(s for s in known if s not in first + last) + last


def load_tfds(name):
    """Builds (downloading if needed) the TFDS set `name` and reads its labels."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name)
    builder.download_and_prepare()
    image_key, label_key, multi = _find_keys(builder.info.features)
    if image_key is None or label_key is None:
        raise ValueError(
            f"tfds:{name} needs an Image feature and a ClassLabel (or a sequence of them); "
            f"its features are {list(builder.info.features)}"
        )
    label_feature = builder.info.features[label_key]
    class_names = (label_feature.feature if multi else label_feature).names
    split_names = _split_order(list(builder.info.splits))
    rows, is_test = [], []
    for split in split_names:
        ds = builder.as_dataset(split=split, shuffle_files=False, decoders={
            image_key: tfds.decode.SkipDecoding()})
        for label in tfds.as_numpy(ds.map(lambda ex: ex[label_key])):
            row = np.zeros(len(class_names), np.float32)
            row[np.atleast_1d(label)] = 1.0
            rows.append(row)
            is_test.append(split == "test")
    has_test = "test" in split_names and len(split_names) > 1
    return TfdsSource(
        f"tfds:{name}", builder, split_names, image_key, np.stack(rows), class_names,
        np.array(is_test) if has_test else None,
    )
