"""The NUS-WIDE (10 most frequent concepts) cross-modal setting for users who have the DCMH-style .mat files
(images `IAll`, tags `YAll`, labels `LAll`; MATLAB v5 or v7.3): 186,577 items of the 10 most frequent concepts with 1,000-word tags (the DCMH release); 2,100 queries, 10,500 training items, the rest the database. Images at
224 px with an ImageNet-pretrained VGG16 (downloaded once by keras.applications),
as cross-modal hashing papers do. Put the files in ~/data/nuswide/ or set
--config.data.source=mat:<files>.

Not run here: the data sets are not on this machine. configs/<method>_nuswide.py set
the method (dcmh, hashgan).
"""

from configs import default


def get_config():
    return default.dcmh_mat_setting(
        "nuswide",
        ['nus-wide-tc10-iall.mat',
         'nus-wide-tc10-yall.mat',
         'nus-wide-tc10-lall.mat'],
        num_query=2100, num_train=10500)
