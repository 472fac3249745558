"""The fixed Oxford Flowers-17 setting every method is compared under (issue 5's
fine-grained set): 1,360 images of 17 species, per-class protocol with 20 queries
per class (340 queries) and the other 60 per class as database and training set
(1,020), images resized to 32 px (the CPU budget: DSaH trained at 90.8 to 96.1
images/s there on 2 cores shared with another run), the small CNN (6 conv layers, widths 32/64/128),
30 epochs, batch 64, Adam 1e-3 with cosine decay, random flips and crops.

Data: the copy in ../shared/data/flowers17.tar.gz (re-encoded at half size, short
side 250 px; README inside), extracted to a folder with images/ and labels.csv:

COMMAND:  tar xzf ../shared/data/flowers17.tar.gz -C ~/.cache/tfhash
          tfhash-train --config=configs/dpsh_flowers17.py --workdir=runs/dpsh_flowers17 \\
              --config.data.source=list:$HOME/.cache/tfhash/flowers17/labels.csv

configs/<method>_flowers17.py set the method; their docstrings give the measured
mAP. Users with internet can use the larger tfds:oxford_flowers102 instead
(--config.data.source=tfds:oxford_flowers102; not measured here).
"""

import os

from configs import default


def get_config():
    config = default.get_config()
    config.bits = 32
    config.data.source = "list:" + os.path.expanduser("~/.cache/tfhash/flowers17/labels.csv")
    config.data.protocol = "per_class"
    config.data.query_per_class = 20
    config.data.train_per_class = 60
    config.data.train_in_database = True
    config.data.image_size = 32
    default.small_cnn_budget(config)
    config.eval.top_k = 100
    config.eval.precision_ks = (1, 10, 50, 100)
    return config
