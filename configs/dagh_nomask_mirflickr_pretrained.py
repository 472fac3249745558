"""DAgH's attribution control: network 1 without its mask, so network 2 learns DPSH-like
codes, everything else as
configs/dagh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dagh,dagh_nomask --bits=32
EXPECTED: mAP@all 0.8091 (network 2) / 0.7973 (network 1) at 32 bits, seed 0 (DAgH 0.8103 / 0.8001; DPSH 0.7984 in the same
          table); 10.0 min of training on 2 CPU cores of an Intel Xeon shared with
          three other training runs, 2026-12-07 (`python benchmarks/method_table.py
          --dataset=mirflickr_pretrained --methods=dagh_nomask --bits=32 --seeds=0
          --table=mirflickr_pretrained_seed`, docs/results.md). Over seeds 0, 1, 2
          (`--seeds=0,1,2`): 0.8092 ± 0.0005 / 0.7975 ± 0.0014 against DAgH's 0.8105 ±
          0.0010 / 0.8008 ± 0.0010.
"""

from configs import dagh_mirflickr_pretrained


def get_config():
    config = dagh_mirflickr_pretrained.get_config()
    config.dagh.attention = "none"
    return config
