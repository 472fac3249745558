"""Data sets, protocol splits and input pipelines."""

from tfhash.data.pipeline import TrainData, eval_dataset, resolve_split
from tfhash.data.sources import ArraySource, FileSource, Source, load_source
from tfhash.data.splits import PROTOCOLS, Split, load_split, make_split, save_split

__all__ = [
    "PROTOCOLS",
    "ArraySource",
    "FileSource",
    "Source",
    "Split",
    "TrainData",
    "eval_dataset",
    "load_source",
    "load_split",
    "make_split",
    "resolve_split",
    "save_split",
]
