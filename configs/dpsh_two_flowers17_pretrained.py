"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`:
two trainable tails, each the 1x1 head conv from the ImageNet weights, on the one
frozen trunk, their pooled features concatenated before the hash layer); everything
else as configs/dpsh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=dpsh,dpsh_two,doh,doh_uniform,doh_global
EXPECTED: not measured yet.
"""

from configs import dpsh_flowers17_pretrained


def get_config():
    config = dpsh_flowers17_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
