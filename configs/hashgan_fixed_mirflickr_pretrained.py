"""HashGAN's attribution control: the attention fixed at its initial weights (no attention
step; the masks, the adversarial term in the hash step and the codes are HashGAN's),
everything else as configs/hashgan_mirflickr_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --table=crossmodal_pretrained
          --methods=hashgan,hashgan_fixed,hashgan_noadv --bits=32 --runs_dir=runs/crossmodal_pretrained
EXPECTED: not measured yet.
"""

from configs import hashgan_mirflickr_pretrained


def get_config():
    config = hashgan_mirflickr_pretrained.get_config()
    config.hashgan.train_attention = False
    return config
