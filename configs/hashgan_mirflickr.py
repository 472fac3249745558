"""HashGAN / ADAH on the MIRFlickr cross-modal mini (images and tags); the shared
setting is configs/mirflickr.py, the same backbone and budget as DCMH. Attention and
adversary on; configs/hashgan_noadv_mirflickr.py is the triplet-only ablation.

COMMAND:  tfhash-train --config=configs/hashgan_mirflickr.py --workdir=runs/hashgan_mirflickr
EXPECTED: mAP@all image->text / text->image: 0.6407 / 0.5964 at 16 bits, 0.6415 ± 0.0340 /
          0.6028 ± 0.0207 at 32 bits (seeds 0, 1, 2), 0.6288 / 0.6004 at 64 bits; chance
          0.5256 at 32 bits; 1.2 to 2.1 min of training per run on 2 CPU cores (AMD EPYC,
          AVX-512, shared with other work), measured on 2026-12-06 by `python
          benchmarks/method_table.py --dataset=mirflickr --epochs=30
          --methods=dcmh,hashgan,hashgan_noadv --bits=16,32,64 --table=crossmodal`
          (docs/results.md, with the readings). The code before the share /
          mask-gradient switches gave 0.6611 / 0.6096, 0.6565 ± 0.0111 / 0.6105 ± 0.0144
          and 0.5949 / 0.5257 with these settings: the same function up to float
          rounding, amplified by 30 epochs of hard masks and a min-max (docs/hashgan.md).
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "hashgan"
    # squared distances in the triplets (the paper: plain), chosen on a validation draw
    # (200 training pairs held out, 30 epochs, val mAP@all image->text): plain 0.6290,
    # squared 0.6701; the ablation: plain 0.6228, squared 0.6627
    config.hashgan.squared = True
    # the settings every number above was measured with, from before these switches
    # existed (the method's defaults now: a 0.9 share and fixed masks in the hash step)
    config.hashgan.attended_share = 0.0
    config.hashgan.hash_step_mask_gradient = True
    return config
