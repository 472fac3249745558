"""configs/dagh_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DAgH: both networks'
backbones start from the same ImageNet trunk (one cache).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dagh --bits=32
EXPECTED: mAP@all network 2 / network 1: 0.8103 / 0.8001 at 32 bits, seed 0 (DPSH 0.7992 on the
          cache before the trunk was folded; 0.8044 ± 0.0045 over 3 seeds); 6.9 min of
          training on 2 CPU cores of an AMD EPYC shared with the unit tests, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dagh
          --bits=32 --seeds=0 --table=mirflickr_pretrained_seed`, docs/results.md).
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md). Over seeds 0, 1, 2
          (`--seeds=0,1,2`, Intel Xeon, 2026-12-07): 0.8105 ± 0.0010 / 0.8008 ± 0.0010."""

from configs import default, dagh_mirflickr


def get_config():
    return default.pretrained_setting(dagh_mirflickr.get_config())
