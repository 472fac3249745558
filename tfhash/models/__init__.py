"""Hashing methods: one Keras model per method, each registered by name."""

from tfhash.models import contract, registry
from tfhash.models.base import HashingModel
from tfhash.models.contract import DataSpec, Encoder, EpochContext, Maps
from tfhash.models.dagh import DAgH
from tfhash.models.dcmh import DCMH
from tfhash.models.doh import DOH
from tfhash.models.dpsh import DPSH
from tfhash.models.dsah import DSaH
from tfhash.models.dsh import DSH
from tfhash.models.hashgan import HashGAN
from tfhash.models.registry import make_model, register

__all__ = ["DAgH", "DCMH", "DOH", "HashGAN", "DPSH", "DSH", "DSaH", "DataSpec", "Encoder", "EpochContext", "HashingModel", "Maps",
           "contract", "make_model", "register", "registry"]
