"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`), everything else as
configs/dpsh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dpsh,dpsh_two --bits=32
EXPECTED: not measured yet (queued with the other controls of issue 25; docs/results.md
          shows the cell once it has run).
"""

from configs import dpsh_mirflickr_pretrained


def get_config():
    config = dpsh_mirflickr_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
