"""DOH's attribution control: the local stream's spatial softmax held at its uniform start
(average pooling), everything else as
configs/doh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=doh,doh_uniform
EXPECTED: mAP@all 0.9568 at 32 bits, seed 0 (DOH 0.9626 on the same cache); over seeds 0,
          1, 2 0.9590 ± 0.0019 against DOH's 0.9609 ± 0.0014 (`--seeds=0,1,2`); 4.4 min of training on 2 idle cores of an AMD
          EPYC, 2026-12-06 (`python benchmarks/method_table.py --dataset=flowers17_pretrained
          --methods=dpsh,dpsh_two,dsah,dsah_nomask,dsah_mean,doh,doh_uniform,doh_global,dagh,dagh_nomask
          --bits=32 --seeds=0 --table=flowers17_pretrained_seed`, docs/results.md).
          Flowers-17's trunk cache (2,380 maps) is built once before the first run:
          30 to 63 s on 2 cores of an AMD EPYC (docs/pretrained.md). At 24 bits over
          seeds 0, 1, 2 (`--bits=24 --seeds=0,1,2 --seed_bits=24`, Intel Xeon,
          2026-12-07): 0.9573 ± 0.0008 against DOH's 0.9632 ± 0.0028.
"""

from configs import doh_flowers17_pretrained


def get_config():
    config = doh_flowers17_pretrained.get_config()
    config.doh.attention = "uniform"
    return config
