"""DSaH's control without per-image attention: the hashing network codes every input
times one map, the mean of the attention's maps over the training items (recomputed
after every epoch), everything else as
configs/dsah_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dsah_mean --bits=32
EXPECTED: not measured yet (queued with the other controls of issue 25; docs/results.md
          shows the cell once it has run).
"""

from configs import dsah_mirflickr_pretrained


def get_config():
    config = dsah_mirflickr_pretrained.get_config()
    config.dsah.mask = "mean"
    return config
