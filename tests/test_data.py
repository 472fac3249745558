import json
import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfhash import data
from tfhash.data import splits as splits_lib


def write_image(path, rng, size=(10, 12)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)).save(path)


def data_config(**overrides):
    config = ml_collections.ConfigDict(dict(
        protocol="per_class", seed=0, query_per_class=2, train_per_class=3, num_query=5,
        num_train=10, train_in_database=True, split_file="", skip_corrupt=False,
        validation_per_class=0, num_validation=0))
    config.update(overrides)
    return config


def label_source(class_counts, name="synthetic"):
    ids = np.concatenate([[c] * n for c, n in enumerate(class_counts)])
    images = np.zeros((len(ids), 2, 2, 3), np.uint8)
    images[:, 0, 0, 0] = np.arange(len(ids)) % 256
    return data.ArraySource(name, images, np.eye(len(class_counts))[ids], [str(c) for c in range(len(class_counts))])


@pytest.fixture
def image_folder(tmp_path, rng):
    for split, count in (("train", 6), ("test", 3)):
        for name in ("cat", "dog"):
            for i in range(count):
                write_image(str(tmp_path / split / name / f"{i}.png"), rng)
    return tmp_path


def test_folder_source_keeps_train_and_test(image_folder):
    source = data.load_source(f"folder:{image_folder}")
    assert len(source) == 18 and source.class_names == ["cat", "dog"]
    assert source.is_test.sum() == 6
    assert source.labels.sum(axis=0).tolist() == [9, 9]
    split = data.make_split(source, splits_lib.protocol_params(data_config(protocol="official")))
    assert len(split.query) == 6 and len(split.train) == 12
    assert all("/test/" in source.describe(i) for i in split.query)


def test_list_source_multi_label(tmp_path, rng):
    for i in range(4):
        write_image(str(tmp_path / "img" / f"{i}.jpg"), rng)
    lines = ["img/0.jpg 1 0 1", "img/1.jpg 0 1 0", "", "img/2.jpg 1 1 0", "img/3.jpg 0 0 1"]
    (tmp_path / "list.txt").write_text("\n".join(lines))
    source = data.load_source(f"list:{tmp_path / 'list.txt'}")
    assert source.multi_label and source.labels.shape == (4, 3)
    np.testing.assert_array_equal(source.labels[0], [1, 0, 1])
    images = list(source.images([0, 3]).as_numpy_iterator())
    assert images[0].shape == (10, 12, 3) and images[0].dtype == np.uint8


def test_list_source_errors_name_the_line(tmp_path):
    (tmp_path / "bad.txt").write_text("a.jpg 1 0\nb.jpg 1\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: 1 labels, earlier lines have 2"):
        data.load_source(f"list:{tmp_path / 'bad.txt'}")


def test_csv_list_source_with_class_names(tmp_path, rng):
    """The Flowers-17 layout: labels.csv with file,label,class_name beside images/."""
    for i in range(5):
        write_image(str(tmp_path / "images" / f"{i}.jpg"), rng)
    rows = ["file,label,class_name", "images/0.jpg,0,daffodil", "images/1.jpg,2,bluebell",
            "images/2.jpg,0,daffodil", "images/3.jpg,1,snowdrop", "images/4.jpg,2,bluebell"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    source = data.load_source(f"list:{tmp_path / 'labels.csv'}")
    assert source.class_names == ["daffodil", "snowdrop", "bluebell"] and not source.multi_label
    np.testing.assert_array_equal(source.labels.argmax(axis=1), [0, 2, 0, 1, 2])
    assert source.describe(3).endswith(os.path.join("images", "3.jpg"))
    assert list(source.images([4]).as_numpy_iterator())[0].shape == (10, 12, 3)
    # another image root
    other = data.load_source(f"list:{tmp_path / 'labels.csv'}@/elsewhere")
    assert other.describe(0) == os.path.join("/elsewhere", "images", "0.jpg")


@pytest.mark.parametrize("text,message", [
    ("path,label\na.jpg,0\n", r"missing \['file'\]"),
    ("file,label\na.jpg,red\n", r"labels.csv:2: label must be a class id, got 'red'"),
    ("file,label,class_name\na.jpg,0,rose\nb.jpg,0,tulip\n", r"labels.csv:3: class 0 is named both"),
    ("file,label\n", "has no items"),
])
def test_csv_list_errors(tmp_path, text, message):
    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        data.load_source(f"list:{tmp_path / 'labels.csv'}")


def test_patches_source_class_is_the_square_colour():
    from tfhash.data import synthetic

    source, corners = synthetic.colour_patches(per_class=5, size=20, patch=4, seed=3)
    assert len(source) == 20 and source.class_names == ["red", "green", "blue", "yellow"]
    for image, label, (y, x) in zip(source.array, source.labels, corners):
        square = image[y:y + 4, x:x + 4].reshape(-1, 3)
        assert (square == synthetic.PATCH_COLOURS[label.argmax()]).all()
    assert data.load_source("patches").array.shape == (240, 24, 24, 3)
    maps = np.zeros((20, 20, 20))
    maps[0, corners[0][0]:corners[0][0] + 4, corners[0][1]:corners[0][1] + 4] = 1.0
    inside, outside = synthetic.patch_saliency(maps, corners, 4)
    assert inside[0] == 1.0 and outside[0] == 0.0 and inside[1:].max() <= 1.0


def test_tfds_fine_grained_sets_are_read_by_name():
    """The keys and splits tfhash would read (builder metadata ships with the code)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from tfhash.data import tfds_source

    for name in ("oxford_flowers102", "stanford_dogs", "caltech_birds2011"):
        features = tfds.builder(name).info.features
        assert tfds_source._find_keys(features) == ("image", "label", False), name
    assert tfds_source._split_order(["test", "validation", "train"]) == ["train", "validation", "test"]
    assert tfds_source._split_order([]) == ["train", "test"]
    assert tfds_source._split_order(["extra", "train"]) == ["train", "extra"]


def test_unknown_source_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown data source 'mnist'"):
        data.load_source("mnist")
    with pytest.raises(ValueError, match="is not a directory"):
        data.load_source("folder:/nonexistent/place")


def test_digits_is_upsampled_rgb():
    source = data.load_source("digits", digits_size=24)
    assert len(source) == 1797 and source.num_classes == 10 and not source.multi_label
    assert source.array.shape == (1797, 24, 24, 3) and source.array.dtype == np.uint8


def test_cifar10_1_protocol_counts_and_disjointness():
    source = label_source([650] * 10)
    params = splits_lib.protocol_params(data_config(protocol="cifar10-1"))
    split = data.make_split(source, params)
    assert len(split.query) == 1000 and len(split.train) == 5000
    assert len(split.database) == 6500 - 1000
    assert not np.intersect1d(split.query, split.train).size
    assert not np.intersect1d(split.query, split.database).size
    assert np.isin(split.train, split.database).all()
    classes = source.labels.argmax(1)
    assert np.bincount(classes[split.query]).tolist() == [100] * 10
    assert np.bincount(classes[split.train]).tolist() == [500] * 10
    again = data.make_split(source, params)
    np.testing.assert_array_equal(again.train, split.train)
    other = data.make_split(source, dict(params, seed=1))
    assert not np.array_equal(other.train, split.train)


def test_fixed_protocol_and_train_outside_database():
    source = label_source([30, 30])
    params = splits_lib.protocol_params(data_config(protocol="fixed", train_in_database=False))
    split = data.make_split(source, params)
    assert (len(split.query), len(split.train), len(split.database)) == (5, 10, 45)
    assert not np.intersect1d(split.train, split.database).size


def test_per_class_needs_enough_items():
    with pytest.raises(ValueError, match="class 1 has 4 items"):
        data.make_split(label_source([10, 4]), splits_lib.protocol_params(data_config()))


def test_split_is_saved_reused_and_checked(tmp_path):
    source = label_source([20, 20])
    config = data_config()
    split = data.resolve_split(source, config, str(tmp_path / "split.json"))
    saved = tmp_path / "split.json"
    assert saved.exists()
    reused = data.resolve_split(source, data_config(seed=0), str(tmp_path / "split.json"))
    np.testing.assert_array_equal(reused.query, split.query)
    assert reused.checksum() == split.checksum()
    with pytest.raises(ValueError, match="was drawn with protocol"):
        data.resolve_split(source, data_config(seed=5), str(tmp_path / "split.json"))
    with pytest.raises(ValueError, match="drawn from other data"):
        data.resolve_split(label_source([20, 21]), config, str(tmp_path / "split.json"))
    record = json.loads(saved.read_text())
    record["query"][0] = record["train"][0]
    saved.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="does not match its checksum"):
        data.resolve_split(source, config, str(tmp_path / "split.json"))
    saved.write_text(saved.read_text()[:50])
    with pytest.raises(ValueError, match="cannot be read"):
        data.resolve_split(source, config, str(tmp_path / "split.json"))


def test_split_file_from_another_run(tmp_path):
    source = label_source([20, 20])
    first = data.resolve_split(source, data_config(), str(tmp_path / "a" / "split.json"))
    os.makedirs(tmp_path / "b")
    other = data.resolve_split(
        source, data_config(split_file=str(tmp_path / "a" / "split.json")),
        str(tmp_path / "b" / "split.json"))
    assert other.checksum() == first.checksum()


def test_corrupt_image_is_named_or_skipped(image_folder, tmp_path):
    bad = image_folder / "train" / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really an image")
    source = data.load_source(f"folder:{image_folder}")
    config = data_config(protocol="official")
    workdir = tmp_path / "run"
    workdir.mkdir()
    with pytest.raises(ValueError, match=r"1 image\(s\) cannot be decoded: .*broken.png"):
        data.resolve_split(source, config, str(workdir / "split.json"))
    assert not (workdir / "split.json").exists()  # nothing written on error
    split = data.resolve_split(source, data_config(protocol="official", skip_corrupt=True),
                               str(workdir / "split.json"))
    assert split.skipped == [str(bad)]
    bad_index = [i for i in range(len(source)) if source.describe(i) == str(bad)][0]
    assert bad_index not in split.train and len(split.train) == 12
    # the whole training part now decodes without an error
    train = data.TrainData(source, split.train, 8, 4, seed=0)
    assert sum(int(b["image"].shape[0]) for b in train.epoch(0)) == 12


def test_train_epochs_are_deterministic_and_indexed():
    source = label_source([12, 12])
    train = data.TrainData(source, np.arange(0, 24, 2), 8, 4, seed=3)
    first = [b for b in train.epoch(0)]
    again = [b for b in train.epoch(0)]
    other = [b for b in train.epoch(1)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a["image"].numpy(), b["image"].numpy())
        np.testing.assert_array_equal(a["index"].numpy(), b["index"].numpy())
    assert not all(np.array_equal(a["index"].numpy(), b["index"].numpy()) for a, b in zip(first, other))
    seen = np.sort(np.concatenate([b["index"].numpy() for b in first]))
    np.testing.assert_array_equal(seen, np.arange(12))  # index = position in the part
    batch = first[0]
    assert batch["image"].shape == (4, 8, 8, 3) and batch["image"].dtype.name == "float32"
    labels = source.labels[np.arange(0, 24, 2)]
    np.testing.assert_array_equal(batch["label"].numpy(), labels[batch["index"].numpy()])


def test_stream_is_the_epochs_back_to_back():
    source = label_source([12, 12])
    train = data.TrainData(source, np.arange(0, 24, 2), 8, 4, seed=3)
    for first, epochs in ((0, 5), (2, 5), (4, 5)):
        expected = [b for e in range(first, epochs) for b in train.epoch(e)]
        streamed = list(train.stream(first, epochs))
        assert len(streamed) == len(expected) == 3 * (epochs - first)
        for a, b in zip(expected, streamed):
            np.testing.assert_array_equal(a["image"].numpy(), b["image"].numpy())
            np.testing.assert_array_equal(a["index"].numpy(), b["index"].numpy())
    with pytest.raises(ValueError, match="no epochs"):
        train.stream(5, 5)


def test_eval_dataset_keeps_order():
    source = label_source([5, 5])
    indices = np.array([1, 4, 7, 9])
    batches = list(data.eval_dataset(source, indices, 2, 3))
    np.testing.assert_array_equal(np.concatenate([b["index"].numpy() for b in batches]), np.arange(4))
    pixels = np.concatenate([b["image"].numpy()[:, 0, 0, 0] for b in batches])
    assert pixels.tolist() == [1, 4, 7, 9]  # resize of a 2x2 image to 2x2 keeps pixels


def test_tfds_source_with_mocked_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
        source = data.load_source("tfds:cifar10")
        assert len(source) == 24 and source.num_classes == 10 and source.is_test.sum() == 12
        split = data.make_split(source, splits_lib.protocol_params(data_config(protocol="official")))
        assert len(split.query) == 12
        batches = list(data.eval_dataset(source, split.query[::3], 16, 2))
        assert sum(int(b["image"].shape[0]) for b in batches) == 4
        assert batches[0]["image"].shape[1:] == (16, 16, 3)
        with pytest.raises(ValueError, match="indices must increase"):
            source.images([5, 2])


def test_database_order_is_a_seeded_shuffle():
    source = label_source([300, 300])  # items listed class by class
    params = splits_lib.protocol_params(data_config())
    split = data.make_split(source, params)
    assert not np.all(np.diff(split.database) > 0)  # not in source (class) order
    np.testing.assert_array_equal(split.database, data.make_split(source, params).database)
    expected = np.setdiff1d(np.arange(600), split.query)
    np.testing.assert_array_equal(np.sort(split.database), expected)
    # the first 100 database items are not all of the first class
    assert 0.2 < source.labels[split.database[:100], 0].mean() < 0.8


def test_encoding_returns_codes_in_split_order():
    import ml_collections
    import tensorflow as tf

    from tfhash.retrieval import codes as codes_lib
    from tfhash.training import evaluation

    from tfhash import models

    def pixels(images):  # codes are the signs of the first channel's 2x2 pixels - 127.5
        return tf.reshape(tf.cast(images[..., 0], tf.float32), [-1, 4]) - 127.5

    encoder = models.Encoder("image", tf.TensorSpec([None, 2, 2, 3], tf.uint8),
                             encode=lambda x: codes_lib.binarize(pixels(x)), embed=pixels,
                             code_bits=4)

    images = np.zeros((6, 2, 2, 3), np.uint8)
    images[:, 0, 0, 0] = [0, 255, 0, 255, 0, 255]
    images[:, 1, 1, 0] = [0, 0, 255, 255, 0, 0]
    source = data.ArraySource("six", images, np.eye(6), [str(i) for i in range(6)])
    config = ml_collections.ConfigDict({"data": {"image_size": 2}, "eval": {"batch_size": 4}})
    order = np.array([3, 0, 5, 2])
    codes, labels = evaluation.encode_items({"pix": encoder}, source, order, config, "test")
    codes = codes["pix"]
    expected = [[0b1001], [0b0000], [0b0001], [0b1000]]  # pixel (0,0) -> bit 0, (1,1) -> bit 3
    assert codes.tolist() == expected
    np.testing.assert_array_equal(labels.argmax(1), order)


def write_pairs(tmp_path, rng, kind="paths", n=6, vocab=5):
    labels = np.eye(3, dtype=np.uint8)[np.arange(n) % 3]
    text = (rng.random((n, vocab)) < 0.5).astype(np.uint8)
    arrays = {"labels": labels, "tags": text, "classes": np.array(["a", "b", "c"])}
    if kind == "paths":
        for i in range(n):
            write_image(str(tmp_path / "pix" / f"{i}.png"), rng)
        arrays["paths"] = np.array([f"pix/{i}.png" for i in range(n)])
    elif kind == "ids":
        for i in range(n):
            write_image(str(tmp_path / "images" / f"im{10 + i}.jpg"), rng)
        arrays["ids"] = np.arange(10, 10 + n)
    else:
        arrays["images"] = rng.integers(0, 256, (n, 8, 8, 3)).astype(np.uint8)
    np.savez(tmp_path / "pairs.npz", **arrays)
    return tmp_path / "pairs.npz", labels, text


@pytest.mark.parametrize("kind", ["paths", "ids", "images"])
def test_pairs_source_reads_images_text_and_labels(tmp_path, rng, kind):
    path, labels, text = write_pairs(tmp_path, rng, kind)
    source = data.load_source(f"pairs:{path}")
    assert source.modalities == ("image", "text") and source.text_dim == 5
    assert source.text.dtype == np.float32 and source.class_names == ["a", "b", "c"]
    np.testing.assert_array_equal(source.text, text)
    np.testing.assert_array_equal(source.labels, labels)
    images = list(source.images([1, 4]).as_numpy_iterator())
    assert images[0].dtype == np.uint8 and images[0].shape[-1] == 3
    if kind == "ids":
        assert source.describe(2).endswith(os.path.join("images", "im12.jpg"))
    # a pair is one item: the protocols split pairs unchanged, items carry their text
    split = data.make_split(source, splits_lib.protocol_params(data_config(
        protocol="fixed", num_query=2, num_train=3)))
    batch = next(iter(data.eval_dataset(source, split.database, 4, 8)))
    np.testing.assert_array_equal(batch["text"].numpy(), text[split.database])
    assert batch["image"].shape == (len(split.database), 4, 4, 3) and batch["image"].dtype == tf.uint8
    train = next(iter(data.TrainData(source, split.train, 4, 3, seed=0).epoch(0)))
    np.testing.assert_array_equal(train["text"].numpy(), text[split.train][train["index"].numpy()])
    only_text = next(iter(data.eval_dataset(source, split.query, 4, 8, ("text",))))
    assert "image" not in only_text and only_text["text"].shape == (2, 5)


def test_pairs_fingerprint_covers_the_text(tmp_path, rng):
    path, labels, text = write_pairs(tmp_path, rng, "images")
    first = data.load_source(f"pairs:{path}")
    with np.load(path) as stored:
        arrays = dict(stored)
    arrays["tags"] = 1 - arrays["tags"]
    np.savez(tmp_path / "other.npz", **arrays)
    second = data.load_source(f"pairs:{tmp_path / 'other.npz'}")
    assert first.fingerprint() != second.fingerprint()
    renamed = data.PairedArraySource(first.name, first.array, first.labels, first.class_names,
                                     1 - first.text)
    assert renamed.fingerprint() != first.fingerprint()  # same name and labels, other text


@pytest.mark.parametrize("arrays,message", [
    (dict(labels=np.ones((2, 3)), paths=np.array(["a", "b"])), r"needs 'labels', 'text' \(or 'tags'\)"),
    (dict(labels=np.ones((2, 3)), text=np.ones((3, 4)), images=np.zeros((2, 4, 4, 3), np.uint8)),
     "must be 2-D with the same number of rows"),
    (dict(labels=np.ones((2, 3)), text=np.ones((2, 4)), paths=np.array(["a.png", "b.png"]),
          ids=np.arange(2)), "exactly one of 'paths', 'ids' or 'images'"),
    (dict(labels=np.ones((2, 3)), text=np.ones((2, 4)), paths=np.array(["a.png", "b.png"])),
     r"2 image file\(s\) are missing under .*a.png"),
    (dict(labels=np.ones((2, 3)), text=np.ones((2, 4)), images=np.zeros((2, 4, 4, 3), np.uint8),
          vocabulary=np.array(["x"])), "1 vocabulary words for 4 text columns"),
])
def test_pairs_errors_are_clear(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        data.load_source(f"pairs:{tmp_path / 'bad.npz'}")
    with pytest.raises(ValueError, match="does not exist"):
        data.load_source(f"pairs:{tmp_path / 'none.npz'}")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        data.load_source(f"pairs:{tmp_path / 'junk.npz'}")


def test_patch_pairs_text_tells_the_class_mostly():
    from tfhash.data import synthetic

    source, corners = synthetic.colour_patch_pairs(per_class=50, vocabulary=40)
    assert source.text.shape == (200, 40) and source.vocabulary[:2] == ["w0", "w1"]
    classes = source.labels.argmax(axis=1)
    own = np.array([source.text[i, c * 5:(c + 1) * 5].mean() for i, c in enumerate(classes)])
    other = np.array([np.delete(source.text[i], np.arange(c * 5, (c + 1) * 5)).mean()
                      for i, c in enumerate(classes)])
    assert 0.55 < own.mean() < 0.75 and other.mean() < 0.1  # 0.6 (at least one word), 0.05
    images, same_corners = synthetic.colour_patches(per_class=50)
    np.testing.assert_array_equal(source.array, images.array)
    np.testing.assert_array_equal(corners, same_corners)


MIRFLICKR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                         "shared", "data", "mirflickr-cm-mini.tar.gz")


@pytest.mark.skipif(not os.path.exists(MIRFLICKR), reason="../shared/data/mirflickr-cm-mini.tar.gz absent")
def test_mirflickr_cross_modal_mini_reads_as_pairs(tmp_path):
    import tarfile

    with tarfile.open(MIRFLICKR) as tar:
        tar.extractall(tmp_path, filter="data")
    source = data.load_source(f"pairs:{tmp_path / 'mirflickr_cm_mini' / 'mir_cm_mini.npz'}")
    assert len(source) == 2188 and source.num_classes == 24 and source.text_dim == 1386
    assert source.multi_label and source.class_names[:3] == ["animals", "baby", "bird"]
    split = data.make_split(source, splits_lib.protocol_params(data_config(
        protocol="fixed", num_query=200, num_train=1000, train_in_database=True)))
    assert len(split.query) == 200 and len(split.train) == 1000 and len(split.database) == 1988
    assert source.unreadable(split.query[:50]) == []  # PNG data named .jpg decodes too


def test_validation_draw_is_held_out_of_training_and_disjoint_from_queries():
    source = label_source([40, 40, 40])
    params = splits_lib.protocol_params(data_config(validation_per_class=4, train_per_class=10))
    assert params["validation_per_class"] == 4
    split = data.make_split(source, params)
    plain = data.make_split(source, splits_lib.protocol_params(data_config(train_per_class=10)))
    assert len(split.validation) == 12 and len(split.train) == 30 - 12  # 10 per class before
    np.testing.assert_array_equal(np.sort(np.concatenate([split.train, split.validation])), plain.train)
    assert not np.intersect1d(split.validation, split.train).size
    assert not np.intersect1d(split.validation, split.query).size
    np.testing.assert_array_equal(split.query, plain.query)  # the other parts are unchanged
    np.testing.assert_array_equal(split.database, plain.database)
    counts = source.labels[split.validation].sum(axis=0)
    assert counts.tolist() == [4, 4, 4]  # per class on single-label data
    assert "validation" not in splits_lib.protocol_params(data_config())  # old splits still match
    with pytest.raises(ValueError, match="class 0 has 3 training items, not more than the 4"):
        data.make_split(source, splits_lib.protocol_params(data_config(validation_per_class=4)))


def test_validation_draw_on_multi_label_data_and_its_errors(tmp_path):
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 4)) < 0.4).astype(np.float32)
    labels[labels.sum(1) == 0, 0] = 1
    source = data.ArraySource("multi", np.zeros((60, 2, 2, 3), np.uint8), labels, list("abcd"))
    split = data.make_split(source, splits_lib.protocol_params(data_config(
        protocol="fixed", num_query=10, num_train=30, num_validation=6)))
    assert len(split.validation) == 6 and len(split.train) == 24
    path = tmp_path / "split.json"
    data.save_split(split, str(path))
    loaded = data.load_split(str(path))
    np.testing.assert_array_equal(loaded.validation, split.validation)
    assert loaded.checksum() == split.checksum() and "24 train, 6 validation" in loaded.summary()
    with pytest.raises(ValueError, match="validation_per_class needs single-label data"):
        data.make_split(source, splits_lib.protocol_params(data_config(
            protocol="fixed", num_query=10, num_train=30, validation_per_class=2)))
    with pytest.raises(ValueError, match="num_validation=30 must be smaller than the 30"):
        data.make_split(source, splits_lib.protocol_params(data_config(
            protocol="fixed", num_query=10, num_train=30, num_validation=30)))
    with pytest.raises(ValueError, match="not both"):
        splits_lib.protocol_params(data_config(validation_per_class=1, num_validation=1))
    with pytest.raises(ValueError, match="must be an integer >= 0"):
        splits_lib.protocol_params(data_config(num_validation=-1))


def matlab_arrays(rng, n=6):
    images = rng.integers(0, 256, (n, 5, 7, 3)).astype(np.uint8)  # [N, H, W, 3]
    text = (rng.random((n, 9)) < 0.4).astype(np.uint8)
    labels = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, n)]
    return images, text, labels


@pytest.mark.parametrize("layout", ["v5_matlab_order", "v5_items_first", "v73_one_file",
                                    "v73_three_files"])
def test_dcmh_mat_files(tmp_path, rng, layout):
    h5py = pytest.importorskip("h5py")
    from scipy import io

    images, text, labels = matlab_arrays(rng)
    if layout.startswith("v5"):
        stack = images.transpose(1, 2, 3, 0) if layout == "v5_matlab_order" else images
        io.savemat(tmp_path / "data.mat", {"IAll": stack, "YAll": text, "LAll": labels})
        spec = f"mat:{tmp_path / 'data.mat'}"
    else:  # MATLAB -v7.3 writes column-major: h5py shows every array with its axes reversed
        variables = {"IAll": images.transpose(1, 2, 3, 0), "YAll": text, "LAll": labels}
        files = ([("data.mat", variables)] if layout == "v73_one_file"
                 else [(f"{k}.mat", {k: v}) for k, v in variables.items()])
        for name, content in files:
            with h5py.File(tmp_path / name, "w") as f:
                for key, value in content.items():
                    f[key] = value.transpose()
        spec = "mat:" + ",".join(str(tmp_path / name) for name, _ in files)
    source = data.load_source(spec)
    assert len(source) == 6 and source.text_dim == 9 and source.num_classes == 4
    np.testing.assert_array_equal(source.text, text)
    np.testing.assert_array_equal(source.labels, labels)
    got = np.stack(list(source.images([4, 0, 2]).as_numpy_iterator()))
    np.testing.assert_array_equal(got, images[[4, 0, 2]])
    batch = next(iter(data.eval_dataset(source, [1, 3], 5, 2)))
    assert batch["image"].shape == (2, 5, 5, 3) and batch["text"].shape == (2, 9)


def test_dcmh_mat_errors(tmp_path, rng):
    from scipy import io

    images, text, labels = matlab_arrays(rng)
    io.savemat(tmp_path / "features.mat", {"IAll": rng.normal(size=(6, 4096)), "YAll": text,
                                           "LAll": labels})
    with pytest.raises(ValueError, match="pixel stack"):
        data.load_source(f"mat:{tmp_path / 'features.mat'}")
    io.savemat(tmp_path / "notags.mat", {"IAll": images, "LAll": labels})
    with pytest.raises(ValueError, match=r"no text variable \(YAll or tags"):
        data.load_source(f"mat:{tmp_path / 'notags.mat'}")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match="not a readable MATLAB file"):
        data.load_source(f"mat:{tmp_path / 'junk.mat'}")
    with pytest.raises(ValueError, match="does not exist"):
        data.load_source(f"mat:{tmp_path / 'none.mat'}")


def test_long_pipelines_are_not_autotuned():
    """Deleting an autotuned iterator waits for its tuning thread (36.9 s after a 45 s
    pass, benchmarks/iterator_teardown.py): the training stream, its epochs and the
    evaluation passes run with fixed parallelism instead (tfhash.data.tuning), and
    still give every item once."""
    source = label_source([12, 12])
    train = data.TrainData(source, np.arange(24), 8, 4, seed=0)
    evaluation = data.eval_dataset(source, np.arange(24), 8, 5)
    for dataset in (train.stream(0, 2), train.epoch(0), evaluation):
        assert dataset.options().autotune.enabled is False
    np.testing.assert_array_equal(
        np.sort(np.concatenate([b["index"].numpy() for b in train.stream(0, 2)])),
        np.repeat(np.arange(24), 2))
    np.testing.assert_array_equal(np.concatenate([b["index"].numpy() for b in evaluation]),
                                  np.arange(24))
