"""Awkward and hostile image files: every readable kind decodes to the pixels an
independent decoder (Pillow) gives, every broken one is named with its reason before
training starts, and a decompression bomb is refused from its header, not decoded."""

import struct
import time
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfhash import data
from tfhash.data import preprocess
from tests.test_data import data_config


def smooth_rgb(height=24, width=32):
    """A smooth image (JPEG keeps it close): gradients in each channel."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // (width - 1), y * 255 // (height - 1),
                     (x + y) * 255 // (width + height - 2)], -1).astype(np.uint8)


def png_bomb(width, height):
    """A valid greyscale PNG of `width` x `height` zero pixels: a few hundred KB on disk."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture
def zoo(tmp_path):
    """class folders with one file of every kind; returns (root, expected pixels by
    name (None: must be refused))."""
    rgb = smooth_rgb()
    folder = tmp_path / "images" / "a"
    folder.mkdir(parents=True)
    (tmp_path / "images" / "b").mkdir()
    expected = {}

    def save(name, image, **kw):
        image.save(folder / name, **kw)

    save("plain.jpg", Image.fromarray(rgb), quality=95)
    expected["plain.jpg"] = np.asarray(Image.open(folder / "plain.jpg").convert("RGB"))
    save("png_named.jpg", Image.fromarray(rgb), format="PNG")
    expected["png_named.jpg"] = rgb
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"), quality=95)
    expected["cmyk.jpg"] = np.asarray(Image.open(folder / "cmyk.jpg").convert("RGB"))
    save("grey.png", Image.fromarray(rgb[..., 0]))
    expected["grey.png"] = np.repeat(rgb[..., :1], 3, -1)
    save("rgba.png", Image.fromarray(np.dstack([rgb, rgb[..., :1]])))
    expected["rgba.png"] = rgb
    save("sixteen.png", Image.fromarray(rgb[..., 1].astype(np.uint16) * 257))  # 16-bit grey
    expected["sixteen.png"] = np.repeat(rgb[..., 1:2], 3, -1)
    save("palette.gif", Image.fromarray(rgb))
    expected["palette.gif"] = np.asarray(Image.open(folder / "palette.gif").convert("RGB"))
    save("plain.bmp", Image.fromarray(rgb))
    expected["plain.bmp"] = rgb
    full = (folder / "plain.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(full[: len(full) // 3])
    expected["truncated.jpg"] = None
    (folder / "empty.jpg").write_bytes(b"")
    expected["empty.jpg"] = None
    (folder / "bomb.png").write_bytes(png_bomb(30000, 30000))  # 2.7 GB if decoded as RGB
    expected["bomb.png"] = None
    for i in range(4):  # a second class, so that a split can be drawn
        Image.fromarray(rgb[::-1]).save(tmp_path / "images" / "b" / f"{i}.png")
    return tmp_path / "images", expected


def test_every_kind_decodes_like_pillow_and_the_broken_are_found(zoo):
    root, expected = zoo
    source = data.load_source(f"folder:{root}")
    names = {source.describe(i).rsplit("/", 1)[-1]: i for i in range(len(source))
             if "/a/" in source.describe(i)}
    assert set(names) == set(expected)
    start = time.time()
    bad = source.unreadable(np.arange(len(source)))
    assert time.time() - start < 60  # the bomb is not decoded
    assert sorted(source.describe(i).rsplit("/", 1)[-1] for i in bad) == sorted(
        name for name, pixels in expected.items() if pixels is None)
    for name, pixels in expected.items():
        if pixels is None:
            continue
        image = preprocess.read_file(tf.constant(source.describe(names[name]))).numpy()
        assert image.shape == pixels.shape and image.dtype == np.uint8, name
        if name in ("plain.jpg", "cmyk.jpg"):  # two JPEG decoders: rounding may differ
            assert np.abs(image.astype(int) - pixels).mean() < 2.0, name
        else:
            np.testing.assert_array_equal(image, pixels, err_msg=name)


def test_broken_files_are_named_with_their_reason(zoo, tmp_path):
    root, _ = zoo
    source = data.load_source(f"folder:{root}")
    with pytest.raises(ValueError) as error:
        data.resolve_split(source, data_config(query_per_class=1, train_per_class=2),
                           str(tmp_path / "w" / "split.json"))
    message = str(error.value)
    assert "3 image(s) cannot be decoded" in message
    assert "bomb.png (image refused: its header says it has more than the 67108864 pixels" in message
    assert "empty.jpg (Input is empty." in message
    assert "truncated.jpg (" in message
    assert "Traceback" not in message and "{{function_node" not in message
    assert not (tmp_path / "w" / "split.json").exists()
    split = data.resolve_split(source, data_config(query_per_class=1, train_per_class=2,
                                                   skip_corrupt=True), str(tmp_path / "w" / "split.json"))
    assert len(split.skipped) == 3


def test_pixel_limit_is_configurable(zoo):
    root, _ = zoo
    source = data.load_source(f"folder:{root}")
    previous = preprocess.set_max_pixels(24 * 32 - 1)  # one pixel fewer than the images
    try:
        assert len(source.unreadable(np.arange(len(source)))) == len(source)
        assert "more than the 767 pixels allowed" in source.decode_error(0)
    finally:
        preprocess.set_max_pixels(previous)
    for bad in (0, -5, 2.5, True, "10"):
        with pytest.raises(ValueError, match="data.max_pixels must be a positive integer"):
            preprocess.set_max_pixels(bad)


def test_header_sizes_match_the_decoded_sizes(zoo):
    root, expected = zoo
    for name, pixels in expected.items():
        if pixels is not None:
            blob = tf.io.read_file(str(root / "a" / name))
            assert int(preprocess.header_pixels(blob)) == pixels.shape[0] * pixels.shape[1], name
    assert int(preprocess.header_pixels(tf.constant(b"not an image"))) == 0
    assert int(preprocess.header_pixels(tf.constant(png_bomb(30000, 30000)))) == 900_000_000
