"""HashGAN's triplet-only ablation on the MIRFlickr cross-modal mini: no attention and
no adversary (`hashgan.adversarial=False`), everything else as
configs/hashgan_mirflickr.py; the comparison the paper's claim rests on.

COMMAND:  tfhash-train --config=configs/hashgan_noadv_mirflickr.py --workdir=runs/hashgan_noadv
EXPECTED: mAP@all image->text / text->image: 0.6447 / 0.6180 at 16 bits, 0.6542 ± 0.0057 / 0.6230 ± 0.0102 at 32 bits
          (seeds 0, 1, 2), 0.6668 / 0.6328 at 64 bits; chance 0.5256 at 32 bits; 0.8 to 0.9 min of
          training per run on 2 CPU cores (AMD EPYC), measured by `python
          benchmarks/method_table.py --dataset=mirflickr --methods=dcmh,hashgan,hashgan_noadv
          --bits=16,32,64 --table=crossmodal` (docs/results.md, with the readings);
          re-run on 2026-12-06 with today's code: every cell the same.
"""

from configs import hashgan_mirflickr


def get_config():
    config = hashgan_mirflickr.get_config()
    config.hashgan.adversarial = False
    return config
