"""DOH's attribution control: the local stream's spatial softmax held at its uniform start
(average pooling), everything else as
configs/doh_flowers17_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=flowers17_pretrained --methods=doh,doh_uniform
EXPECTED: not measured yet.
"""

from configs import doh_flowers17_pretrained


def get_config():
    config = doh_flowers17_pretrained.get_config()
    config.doh.attention = "uniform"
    return config
