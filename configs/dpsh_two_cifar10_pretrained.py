"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`:
two trainable tails, each the 1x1 head conv from the ImageNet weights, on the one
frozen trunk, their pooled features concatenated before the hash layer); everything
else as configs/dpsh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dpsh,dpsh_two,doh,doh_uniform,doh_global
EXPECTED: mAP@all 0.6744 at 32 bits, seed 0 (DPSH 0.6637 on the same seed, 0.6685 ±
          0.0054 over seeds 0, 1, 2; DOH 0.6706 ± 0.0026); 48.4 min of training on 2
          CPU cores of an Intel Xeon shared with two other training runs, 2026-12-07
          (`python benchmarks/method_table.py --dataset=cifar10_pretrained
          --methods=dpsh_two --bits=32 --seeds=0,1,2 --table=cifar10_pretrained_seed`,
          docs/results.md). Seeds 1 and 2: 0.6789 and 0.6726 (seeds 0, 1, 2: 0.6752 ±
          0.0032; +0.0067 over DPSH, under two of DPSH's standard deviations, 0.0108).
          At 24 bits, seed 0 (the same Xeon, shared, `--bits=24 --seeds=0`): 0.6634
          (DPSH 0.6588, DOH 0.6643). At 12 bits, seed 0 (`--bits=12 --seeds=0`): 0.6217
          (DPSH 0.6204, DOH 0.6417). At 48 bits (`--bits=48 --seeds=0`): 0.6794
          (DPSH 0.6763, DOH 0.6753).
"""

from configs import dpsh_cifar10_pretrained


def get_config():
    config = dpsh_cifar10_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
