"""DSaH on the coloured-patch images: does the attention attend?

24 px uniform noise with one 6x6 square of pure colour at a random position; the
colour (red, green, blue, yellow) is the class (tfhash.data.synthetic, source
`patches`: 240 images, 10 queries and 40 training images per class). A tiny CNN
(widths 8/16), 12 bits, 60 epochs; DSaH with the defaults of configs/default.py
except `dsah.area_target` = 0 (with the default 0.5: inside 0.877, outside 0.617).

COMMAND:  tfhash-train --config=configs/dsah_patches.py --workdir=runs/dsah_patches
          python benchmarks/dsah_patch_probe.py --seed=0   (adds the saliency numbers)
EXPECTED: (benchmarks/dsah_patch_probe.py, seeds 0 / 1 / 2, 2 CPU cores, about 17 s
          each when idle) mAP@all 0.926 / 1.000 / 1.000 (chance about 0.25); mean
          saliency inside the square 0.851 / 0.769 / 0.831, outside 0.389 / 0.379 / 0.348.
          The saliency figure in the run's report shows the maps.
tests/test_dsah.py::test_attention_attends runs this config.
"""

from configs import default


def get_config():
    config = default.patch_probe("dsah")
    config.dsah.area_target = 0.0  # the square is 6% of the image: no floor on the area
    return config
