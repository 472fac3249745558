"""HashGAN / ADAH on the MIRFlickr cross-modal mini (images and tags); the shared
setting is configs/mirflickr.py, the same backbone and budget as DCMH. Attention and
adversary on; configs/hashgan_noadv_mirflickr.py is the triplet-only ablation.

COMMAND:  tfhash-train --config=configs/hashgan_mirflickr.py --workdir=runs/hashgan_mirflickr
EXPECTED: mAP@all image->text / text->image: 0.6611 / 0.6096 at 16 bits, 0.6565 ± 0.0111 / 0.6105 ± 0.0144 at 32 bits
          (seeds 0, 1, 2), 0.5949 / 0.5257 at 64 bits; chance 0.5256 at 32 bits; 1.2 to 1.9 min of
          training per run on 2 CPU cores (AMD EPYC), measured by `python
          benchmarks/method_table.py --dataset=mirflickr --methods=dcmh,hashgan,hashgan_noadv
          --bits=16,32,64 --table=crossmodal` (docs/results.md, with the readings).
          Measured with the code before the share / mask-gradient switches; today's code
          computes the same function up to float rounding (docs/hashgan.md: same loss and
          codes after one step), but runs diverge from it: the 16-bit cell printed 0.6533 /
          0.5972 on 2 cores of an AMD EPYC with AVX2, 0.6407 / 0.5964 on one with AVX-512
          (`python benchmarks/method_table.py --dataset=mirflickr --methods=hashgan
          --bits=16 --table=crossmodal --no_readme`).
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
