"""DAgH (deep attention-guided hashing) with the small CNN on mirflickr, 32 bits by default; the
shared setting is in configs/mirflickr.py: stage 1 (attention + hashing network, DPSH's
likelihood with the length-normalised logit and the difference attention loss) for 20
of the 30 epochs, stage 2 (a second small CNN learning the guided codes) for the other
10, so DAgH trains within the same total epochs as the other methods. Codes: network 2.

COMMAND:  tfhash-train --config=configs/dagh_mirflickr.py --workdir=runs/dagh_mirflickr
EXPECTED: mAP@all 0.6233 ± 0.0081 (network 2, the default codes) / 0.6291 ± 0.0097
          (network 1) at 32 bits (seeds 0, 1, 2; chance 0.5256; DPSH 0.6196 ± 0.0039);
          1.4 to 1.5 min of training per run on 2 CPU cores (AMD EPYC, shared with other
          runs), measured by `python benchmarks/method_table.py --dataset=mirflickr
          --bits=32 --methods=dagh` (docs/results.md, "DAgH": with `dagh.reestimate_bn`,
          the default; without it 0.5454 ± 0.0121 / 0.5936 ± 0.0049).
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "dagh"
    return config
