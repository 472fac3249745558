"""The IAPR TC-12 cross-modal setting for users who have the DCMH-style .mat files
(images `IAll`, tags `YAll`, labels `LAll`; MATLAB v5 or v7.3): 20,000 items, 2,912-word text and 255 labels (the DCMH-style release); 2,000 queries, 10,000 training items, the rest the database. Images at
224 px with an ImageNet-pretrained VGG16 (downloaded once by keras.applications),
as cross-modal hashing papers do. Put the files in ~/data/iapr/ or set
--config.data.source=mat:<files>.

Not run here: the data sets are not on this machine. configs/<method>_iapr.py set
the method (dcmh, hashgan).
"""

from configs import default


def get_config():
    return default.dcmh_mat_setting(
        "iapr",
        ['iapr-tc12-iall.mat',
         'iapr-tc12-yall.mat',
         'iapr-tc12-lall.mat'],
        num_query=2000, num_train=10000)
