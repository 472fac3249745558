"""configs/dcmh_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head
conv and its 14 x 14 maps cached once per item), 32 bits by default.

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --table=crossmodal_pretrained
          --methods=dcmh --bits=16,32,64 --runs_dir=runs/crossmodal_pretrained
EXPECTED: image->text / text->image mAP@all 0.5704 / 0.5610 (16 bits), 0.6159 ± 0.0083 /
          0.6043 ± 0.0056 (32 bits, 3 seeds), 0.6495 / 0.6418 (64 bits); 1.4 to 1.5
          minutes of training per run (2 cores, AMD EPYC, 2026-12-02). Re-run on the
          later trunk cache beside HashGAN (2026-12-07, `python benchmarks/method_table.py --dataset=mirflickr_pretrained --epochs=30
          --methods=dcmh,hashgan,hashgan_noadv,hashgan_fixed --bits=16,32,64
          --table=crossmodal_pretrained_seed --runs_dir=runs/crossmodal_pretrained`):
          0.5712 / 0.5608, 0.6161 ± 0.0084 / 0.6047 ± 0.0058, 0.6491 / 0.6402.
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md).
"""

from configs import default, dcmh_mirflickr


def get_config():
    return default.pretrained_setting(dcmh_mirflickr.get_config())
