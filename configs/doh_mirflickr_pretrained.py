"""configs/doh_mirflickr.py in the pretrained setting (`default.pretrained_setting`:
EfficientNet-Lite0 with ImageNet weights, 224 px, the trunk frozen up to the head conv
and its 14 x 14 maps cached once per item), 32 bits by default. DOH: both streams'
backbones start from the same ImageNet trunk (one cache).

COMMAND:  python benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=doh --bits=32
EXPECTED: mAP@all 0.8013 at 32 bits, seed 0 (DPSH 0.8044 ± 0.0045 over 3 seeds); 4.6 min
          of training on 2 CPU cores of an AMD EPYC, 2026-12-06 (`python
          benchmarks/method_table.py --dataset=mirflickr_pretrained --methods=dsah,dagh,doh
          --bits=32 --seeds=0 --table=mirflickr_pretrained_seed`, docs/results.md).
          MIRFlickr's trunk cache (3,188 maps) is built once before the first run:
          46 s on 2 cores of an AMD EPYC (docs/pretrained.md). Over seeds 0, 1, 2
          (`--seeds=0,1,2`, Intel Xeon, 2026-12-07): 0.8041 ± 0.0025, level with DPSH
          re-run beside it (0.8041 ± 0.0049).
"""

from configs import default, doh_mirflickr


def get_config():
    config = default.pretrained_setting(doh_mirflickr.get_config())
    # the local stream's two 1x1 convs 320 wide (the trunk map's channels), not the
    # head's 1,280: chosen on the Flowers-17 validation draw, 0.9333 against 0.9257 in
    # 4.6 min against 13.2 (benchmarks/results/doh_flowers17_pretrained_validation.md)
    config.doh.local_units = 320
    return config
