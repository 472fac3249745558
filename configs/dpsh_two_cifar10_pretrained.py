"""DOH's capacity control: DPSH with two backbones side by side (`dpsh.backbones=2`:
two trainable tails, each the 1x1 head conv from the ImageNet weights, on the one
frozen trunk, their pooled features concatenated before the hash layer); everything
else as configs/dpsh_cifar10_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=cifar10_pretrained --methods=dpsh,dpsh_two,doh,doh_uniform,doh_global
EXPECTED: not measured yet.
"""

from configs import dpsh_cifar10_pretrained


def get_config():
    config = dpsh_cifar10_pretrained.get_config()
    config.dpsh.backbones = 2
    return config
