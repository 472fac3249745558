"""DAgH's attribution control: network 1 without its mask, so network 2 learns DPSH-like
codes, everything else as
configs/dagh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dagh,dagh_nomask --bits=32
EXPECTED: not measured yet (queued with the other controls of issue 25; docs/results.md
          shows the cell once it has run).
"""

from configs import dagh_mirflickr_pretrained


def get_config():
    config = dagh_mirflickr_pretrained.get_config()
    config.dagh.attention = "none"
    return config
