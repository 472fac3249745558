"""Data sets, protocol splits, the one preprocessing and the input pipelines."""

from tfhash.data.paired import PairedArraySource, PairedSource
from tfhash.data.pipeline import TrainData, eval_dataset, item_images
from tfhash.data.registry import load_source
from tfhash.data.sources import ArraySource, FileSource, Source
from tfhash.data.splits import PROTOCOLS, Split, load_split, make_split, resolve_split, save_split

__all__ = [
    "PROTOCOLS",
    "ArraySource",
    "FileSource",
    "PairedArraySource",
    "PairedSource",
    "Source",
    "Split",
    "TrainData",
    "eval_dataset",
    "item_images",
    "load_source",
    "load_split",
    "make_split",
    "resolve_split",
    "save_split",
]
