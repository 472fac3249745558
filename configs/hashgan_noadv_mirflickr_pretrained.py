"""HashGAN's triplet-only ablation (`hashgan.adversarial=False`: no attention, no
adversary) in the pretrained setting, everything else as
configs/hashgan_mirflickr_pretrained.py.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --table=crossmodal_pretrained
          --methods=dcmh,hashgan,hashgan_noadv --bits=16,32,64 --runs_dir=runs/crossmodal_pretrained
EXPECTED: image->text / text->image mAP@all 0.7468 / 0.7299 at 32 bits, seed 0 (DCMH on the
          same trunk cache 0.6064 / 0.6015), 2026-12-06 (`python benchmarks/method_table.py
          --dataset=mirflickr_pretrained --table=crossmodal_pretrained_seed
          --methods=dcmh,hashgan,hashgan_noadv --bits=32 --seeds=0
          --runs_dir=runs/crossmodal_pretrained`, docs/results.md); 2.7 min of training on
          2 CPU cores of an AMD EPYC (the table's training minutes). Since (2026-12-07, 2 cores
          of an Intel Xeon shared with another run; the cross-modal seed table's command,
          as in configs/hashgan_mirflickr_pretrained.py):
          16 bits 0.7383 / 0.7164, 32 bits over seeds 0, 1, 2 0.7466 ± 0.0069 / 0.7321 ±
          0.0058, 64 bits 0.7590 / 0.7347.
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import hashgan_mirflickr_pretrained


def get_config():
    config = hashgan_mirflickr_pretrained.get_config()
    config.hashgan.adversarial = False
    return config
