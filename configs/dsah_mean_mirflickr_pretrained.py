"""DSaH's control without per-image attention: the hashing network codes every input
times one map, the mean of the attention's maps over the training items (recomputed
after every epoch), everything else as
configs/dsah_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dsah_mean --bits=32
EXPECTED: mAP@all 0.7981 at 32 bits, seed 0 (DSaH 0.7970, no mask 0.8010; DPSH 0.7984 in the same
          table); 15.8 min of training on 2 CPU cores of an Intel Xeon shared with
          three other training runs, 2026-12-07 (`python benchmarks/method_table.py
          --dataset=mirflickr_pretrained --methods=dsah_mean --bits=32 --seeds=0
          --table=mirflickr_pretrained_seed`, docs/results.md). Seeds 0, 1, 2:
          0.7947 ± 0.0028 (DSaH 0.7962 ± 0.0012, no mask 0.8017 ± 0.0007):
          level with DSaH, below the no-mask control.
"""

from configs import dsah_mirflickr_pretrained


def get_config():
    config = dsah_mirflickr_pretrained.get_config()
    config.dsah.mask = "mean"
    return config
