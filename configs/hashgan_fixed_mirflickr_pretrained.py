"""HashGAN's attribution control: the attention fixed at its initial weights (no attention
step; the masks, the adversarial term in the hash step and the codes are HashGAN's),
everything else as configs/hashgan_mirflickr_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --table=crossmodal_pretrained
          --methods=hashgan,hashgan_fixed,hashgan_noadv --bits=32 --runs_dir=runs/crossmodal_pretrained
EXPECTED: mAP@all 0.7459 image->text / 0.7324 text->image at 32 bits, seed 0 (HashGAN
          0.7433 / 0.7420, on the earlier cache), 2.1 min of training, 2 CPU cores of an
          AMD EPYC, 2026-12-06 (docs/results.md, the cross-modal seed table). Since
          (2026-12-07, 2 cores of an Intel Xeon shared with another run; the command in
          configs/hashgan_mirflickr_pretrained.py):
          16 bits 0.7387 / 0.7251, 32 bits over seeds 0, 1, 2 0.7483 ± 0.0027 / 0.7375 ±
          0.0047, 64 bits 0.7563 / 0.7428.
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import hashgan_mirflickr_pretrained


def get_config():
    config = hashgan_mirflickr_pretrained.get_config()
    config.hashgan.train_attention = False
    return config
