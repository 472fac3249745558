"""Hashing methods: one Keras model per method, composed from networks
(`tfhash.layers`, `tfhash.backbones`) and losses (`tfhash.losses`). A model never
reads a run config: `tfhash.methods` builds one from a config."""

from tfhash.models import contract
from tfhash.models.base import HashingModel, NetworkModel
from tfhash.models.contract import DataSpec, Encoder, EpochContext, Maps
from tfhash.models.dagh import DAgH
from tfhash.models.dcmh import DCMH
from tfhash.models.doh import DOH
from tfhash.models.dpsh import DPSH
from tfhash.models.dsah import DSaH
from tfhash.models.dsh import DSH
from tfhash.models.hashgan import HashGAN

__all__ = ["DAgH", "DCMH", "DOH", "DPSH", "DSH", "DSaH", "DataSpec", "Encoder", "EpochContext",
           "HashGAN", "HashingModel", "Maps", "NetworkModel", "contract"]
