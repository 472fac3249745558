"""DAgH (deep attention-guided hashing) with the small CNN on cifar10, 32 bits by default; the
shared setting is in configs/cifar10.py: stage 1 (attention + hashing network, DPSH's
likelihood with the length-normalised logit and the difference attention loss) for 20
of the 30 epochs, stage 2 (a second small CNN learning the guided codes) for the other
10, so DAgH trains within the same total epochs as the other methods. Codes: network 2.

COMMAND:  tfhash-train --config=configs/dagh_cifar10.py --workdir=runs/dagh_cifar10
EXPECTED: mAP@all, network 2 (the default codes) / network 1: 0.4274 / 0.4652, 0.4443 /
          0.4907, 0.4576 ± 0.0046 / 0.5024 ± 0.0121 (seeds 0, 1, 2), 0.4717 / 0.5165 at 12 /
          24 / 32 / 48 bits (chance 0.1001; DPSH 0.4615 / 0.4981 / 0.5007 ± 0.0066 / 0.5102:
          network 2 below it at every length, network 1 level with it); 6.3 to 8.3 min of
          training per run on 2 CPU cores (AMD EPYC, shared with other runs), measured by
          `python benchmarks/method_table.py --dataset=cifar10 --methods=dagh` (JPEG copy
          of CIFAR-10; docs/results.md, "DAgH"; batch-norm statistics re-estimated,
          `dagh.reestimate_bn`).
"""

from configs import cifar10


def get_config():
    config = cifar10.get_config()
    config.method = "dagh"
    # dagh.attention_loss stays "difference" and the stage split 20 of 30 epochs
    # (dagh.stage1_share 2/3), chosen on a validation draw (50 training images per class held out, 30 epochs, 32 bits, val
    # mAP@all): difference 0.4578, contrastive 0.2342; stage 1 for 10 epochs: 0.4008
    return config
