"""The MIRFlickr-25K cross-modal setting for users who have the DCMH-style .mat files
(images `IAll`, tags `YAll`, labels `LAll`; MATLAB v5 or v7.3): 20,015 items with at least one of 24 concepts and 1,386-word tags (the DCMH release); 2,000 queries, 10,000 training items, the other 18,015 the database (DCMH's protocol). Images at
224 px with an ImageNet-pretrained VGG16 (downloaded once by keras.applications),
as cross-modal hashing papers do. Put the files in ~/data/mirflickr25k/ or set
--config.data.source=mat:<files>.

Not run here: the data sets are not on this machine. configs/<method>_mirflickr25k.py set
the method (dcmh, hashgan).
"""

from configs import default


def get_config():
    return default.dcmh_mat_setting(
        "mirflickr25k",
        ['mirflickr25k-iall.mat',
         'mirflickr25k-yall.mat',
         'mirflickr25k-lall.mat'],
        num_query=2000, num_train=10000)
