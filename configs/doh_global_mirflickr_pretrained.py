"""DOH's attribution control: the global stream alone (no local stream, no attention), everything else as
configs/doh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=doh,doh_global --bits=32
EXPECTED: mAP@all 0.8107 at 32 bits, seed 0 (DOH 0.8013, its uniform-attention control
          0.8092; DPSH 0.7984 in the same table); 5.5 min of training on 2 CPU cores of an
          Intel Xeon shared with three other training runs, 2026-12-07 (`python
          benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=doh_global
          --bits=32 --seeds=0 --table=mirflickr_pretrained_seed`, docs/results.md).
          Seeds 0, 1, 2: 0.8106 ± 0.0019 against DOH's 0.8041 ± 0.0025 (the local
          stream debited, -0.0064) and uniform attention's 0.8085 ± 0.0013.
"""

from configs import doh_mirflickr_pretrained


def get_config():
    config = doh_mirflickr_pretrained.get_config()
    config.doh.streams = "global"
    return config
