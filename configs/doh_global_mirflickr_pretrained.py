"""DOH's attribution control: the global stream alone (no local stream, no attention), everything else as
configs/doh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=doh,doh_global --bits=32
EXPECTED: not measured yet (queued with the other controls of issue 25; docs/results.md
          shows the cell once it has run).
"""

from configs import doh_mirflickr_pretrained


def get_config():
    config = doh_mirflickr_pretrained.get_config()
    config.doh.streams = "global"
    return config
