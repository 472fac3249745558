"""DAgH (deep attention-guided hashing) with the small CNN on flowers17, 32 bits by default; the
shared setting is in configs/flowers17.py: stage 1 (attention + hashing network, DPSH's
likelihood with the length-normalised logit and the difference attention loss) for 20
of the 30 epochs, stage 2 (a second small CNN learning the guided codes) for the other
10, so DAgH trains within the same total epochs as the other methods. Codes: network 2.

COMMAND:  tfhash-train --config=configs/dagh_flowers17.py --workdir=runs/dagh_flowers17
EXPECTED: mAP@all network 2 (the default codes) / network 1: 0.3399 / 0.3746, 0.4174 /
          0.4883, 0.4569 ± 0.0116 / 0.5579 ± 0.0451 (seeds 0, 1, 2), 0.4895 / 0.6013 at 12 /
          24 / 32 / 48 bits (chance 0.0643; DPSH 0.3735 ± 0.0103 at 32 bits); 1.4 to 2.7
          min of training per run on 2 CPU cores (AMD EPYC, shared with other runs),
          measured by `python benchmarks/method_table.py --dataset=flowers17
          --methods=dagh` (docs/results.md, "DAgH": with `dagh.reestimate_bn`, the
          default; without it network 2 scored 0.1332 at 32 bits).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dagh"
    return config
