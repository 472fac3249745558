"""DSaH's attribution control: the hashing network on the unmasked trunk map, no attention
step, everything else as
configs/dsah_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dsah_nomask --bits=32
EXPECTED: mAP@all 0.8010 at 32 bits, seed 0 (DSaH with its mask 0.7970; DPSH 0.7984 in the same
          table); 6.8 min of training on 2 CPU cores of an Intel Xeon shared with
          three other training runs, 2026-12-07 (`python benchmarks/method_table.py
          --dataset=mirflickr_pretrained --methods=dsah_nomask --bits=32 --seeds=0
          --table=mirflickr_pretrained_seed`, docs/results.md). One seed: within the
          seed spread until seeds 1 and 2 are run.
"""

from configs import dsah_mirflickr_pretrained


def get_config():
    config = dsah_mirflickr_pretrained.get_config()
    config.dsah.mask = "none"
    return config
