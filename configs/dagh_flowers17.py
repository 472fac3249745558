"""DAgH (deep attention-guided hashing) with the small CNN on flowers17, 32 bits by default; the
shared setting is in configs/flowers17.py: stage 1 (attention + hashing network, DPSH's
likelihood with the length-normalised logit and the difference attention loss) for 20
of the 30 epochs, stage 2 (a second small CNN learning the guided codes) for the other
10, so DAgH trains within the same total epochs as the other methods. Codes: network 2.

COMMAND:  tfhash-train --config=configs/dagh_flowers17.py --workdir=runs/dagh_flowers17
EXPECTED: mAP@all network 2 (the default codes) / network 1: 0.1158 / 0.2232, 0.1329 /
          0.2443, 0.1332 ± 0.0084 / 0.3237 ± 0.0294 (seeds 0, 1, 2), 0.1350 / 0.3211 at 12 /
          24 / 32 / 48 bits (chance 0.0643): network 2 far below every baseline
          (docs/results.md readings: why); 0.9 to 1.5 min of training per run on 2 CPU
          cores (AMD EPYC), measured by `python benchmarks/method_table.py --dataset=flowers17
          --methods=dpsh,dsh,dsah,doh,dagh` (docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dagh"
    return config
