"""DSaH on the images of the MIRFlickr cross-modal mini (multi-label), 32 bits; the
shared setting and the data are described in configs/mirflickr.py.

COMMAND:  tfhash-train --config=configs/dsah_mirflickr.py --workdir=runs/dsah_mirflickr
EXPECTED: mAP@all 0.6125 ± 0.0118 at 32 bits (mean ± sample std over seeds 0, 1, 2; chance 0.5256);
          2.5 to 3.1 min of training per run on 2 CPU cores (AMD EPYC), measured by
          `python benchmarks/method_table.py --dataset=mirflickr --bits=32`
          (docs/results.md).
"""

from configs import mirflickr


def get_config():
    config = mirflickr.get_config()
    config.method = "dsah"
    return config
