"""DAgH (deep attention-guided hashing) with the small CNN on flowers17, 32 bits by default; the
shared setting is in configs/flowers17.py: stage 1 (attention + hashing network, DPSH's
likelihood with the length-normalised logit and the difference attention loss) for 20
of the 30 epochs, stage 2 (a second small CNN learning the guided codes) for the other
10, so DAgH trains within the same total epochs as the other methods. Codes: network 2.

COMMAND:  tfhash-train --config=configs/dagh_flowers17.py --workdir=runs/dagh_flowers17
EXPECTED: mAP@all 0.1332 ± 0.0084 (network 2, the default codes) / 0.3237 ± 0.0294 (network 1)
          at 32 bits (seeds 0, 1, 2; chance 0.0643): network 2 far below every baseline
          (docs/results.md readings: why); 0.9 to 1.5 min of training per run
          on 2 CPU cores (AMD EPYC), measured by `python benchmarks/method_table.py
          --dataset=flowers17 --methods=dpsh,dsh,dsah,doh,dagh` (32-bit column; the other
          lengths were not run in this session; docs/results.md).
"""

from configs import flowers17


def get_config():
    config = flowers17.get_config()
    config.method = "dagh"
    config.model.head_batch_norm = True
    config.model.head_activation = "tanh"
    return config
