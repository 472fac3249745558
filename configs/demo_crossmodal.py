"""DCMH, 32 bits, on digits paired with noisy tags: the embedded cross-modal demo.

Each digit carries a bag of tags (`digits_pairs`, tfhash.data.paired.load_digits_pairs:
its name with probability 0.6, its traits such as even / prime / loop with 0.5 each,
two filler words, sometimes a wrong name); image->text and text->image are scored.
`--config.method=hashgan` runs HashGAN on the same data.

COMMAND:  tfhash-train --config=configs/demo_crossmodal.py --workdir=runs/demo_crossmodal
EXPECTED: image->text mAP@all 0.5157, text->image 0.5129 (chance 0.1045), 23.2 s of
          training, 40 s for the command (2 idle cores of an AMD EPYC, 2026-12-02);
          hashgan 0.3305 / 0.3199 (71.9 s of training beside a low-priority job),
          its ablation `--config.hashgan.adversarial=False` 0.5132 / 0.5112 (README
          "Try another method", docs/hashgan.md).
"""

from configs import demo


def get_config():
    config = demo.get_config()
    config.method = "dcmh"
    config.data.source = "digits_pairs"
    return config
