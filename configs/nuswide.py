"""The NUS-WIDE (10 most frequent concepts) cross-modal setting for users who have the DCMH-style .mat files
(images `IAll`, tags `YAll`, labels `LAll`; MATLAB v5 or v7.3): 186,577 items of the 10 most frequent concepts with 1,000-word tags (the DCMH release); 2,100 queries, 10,500 training items, the rest the database. Images at
224 px with an ImageNet-pretrained VGG16 (downloaded once by keras.applications),
as cross-modal hashing papers do. Put the files in ~/data/nuswide/ or set
--config.data.source=mat:<files>.

Not run here: the data sets are not on this machine. configs/<method>_nuswide.py set
the method (dcmh, hashgan).
"""

import os

from configs import default

ROOT = os.path.expanduser("~/data/nuswide")


def get_config():
    config = default.get_config()
    config.bits = 32
    config.data.source = "mat:" + ",".join(
        os.path.join(ROOT, f) for f in ['nus-wide-tc10-iall.mat', 'nus-wide-tc10-yall.mat', 'nus-wide-tc10-lall.mat'])
    config.data.protocol = "fixed"
    config.data.num_query = 2100
    config.data.num_train = 10500
    config.data.train_in_database = True
    config.data.image_size = 224
    config.model.backbone = "vgg16"
    config.model.weights = "imagenet"
    config.train.epochs = 30
    config.train.batch_size = 64
    config.eval.top_k = 1000
    return config
