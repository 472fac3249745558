"""DOH on the coloured-patch images: does the local stream's spatial attention attend?

24 px uniform noise with one 6x6 square of pure colour at a random position; the
colour (red, green, blue, yellow) is the class (tfhash.data.synthetic, source
`patches`: 240 images, 10 queries and 40 training images per class). Two tiny CNNs
(widths 8/16: a 6 x 6 feature map), 12 bits, 60 epochs; DOH with the defaults of
configs/default.py. The square is 36 of 576 pixels: attention with no preference puts
0.0625 of its mass on it.

COMMAND:  python benchmarks/doh_patch_probe.py --seed=0
EXPECTED: (benchmarks/doh_patch_probe.py, seeds 0 / 1 / 2, 2 CPU cores shared with other
          runs, 11 to 27 s each) mAP@all 1.000 / 1.000 / 1.000 (chance about 0.25);
          attention mass inside the square 0.536 / 0.273 / 0.514 (no preference: 0.0625).
tests/test_doh.py::test_attention_attends runs this config.
"""

from configs import default


def get_config():
    return default.patch_probe("doh")
