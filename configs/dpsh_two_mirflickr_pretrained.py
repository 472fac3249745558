"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`), everything else as
configs/dpsh_mirflickr_pretrained.py (MIRFlickr images, multi-label).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dpsh,dpsh_two --bits=32
EXPECTED: mAP@all 0.8026 at 32 bits, seed 0 (DPSH 0.7984 in the same table, 0.7984 / 0.8070
          / 0.8069 over seeds 0, 1, 2; DOH 0.8013); 11.2 min of training on 2 CPU cores of
          an Intel Xeon shared with three other training runs, 2026-12-07 (`python
          benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dpsh_two
          --bits=32 --seeds=0 --table=mirflickr_pretrained_seed`, docs/results.md).
          Seeds 0, 1, 2 (`--seeds=0,1,2`): 0.8043 ± 0.0021, level with DPSH's 0.8041 ±
          0.0049 (DOH 0.8041 ± 0.0025).
"""

from configs import dpsh_mirflickr_pretrained


def get_config():
    config = dpsh_mirflickr_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
