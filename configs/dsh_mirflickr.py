"""DSH on the images of the MIRFlickr cross-modal mini (multi-label), 32 bits; the
shared setting and the data are described in configs/mirflickr.py.

COMMAND:  tfhash-train --config=configs/dsh_mirflickr.py --workdir=runs/dsh_mirflickr
EXPECTED: mAP@all 0.5743 ± 0.0018 at 32 bits (mean ± sample std over seeds 0, 1, 2; chance 0.5256);
          0.8 to 1.1 min of training per run on 2 CPU cores (AMD EPYC), measured by
          `python benchmarks/method_table.py --dataset=mirflickr --bits=32`
          (docs/results.md).
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "dsh"
    # against DSH's collapse on multi-label data (docs/multilabel.md):
    # graded label similarity and a bit-balance term, chosen on a validation draw
    config.loss.similarity = "jaccard"
    config.loss.balance_weight = 1.0
    return config
