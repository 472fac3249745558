"""HashGAN's triplet-only ablation (`hashgan.adversarial=False`: no attention, no
adversary) in the pretrained setting, everything else as
configs/hashgan_mirflickr_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --table=crossmodal_pretrained
          --methods=dcmh,hashgan,hashgan_noadv --bits=16,32,64 --runs_dir=runs/crossmodal_pretrained
EXPECTED: not measured yet.
"""

from configs import hashgan_mirflickr_pretrained


def get_config():
    config = hashgan_mirflickr_pretrained.get_config()
    config.hashgan.adversarial = False
    return config
