"""From a trained model to a searchable collection: encode image files or sources into
an index on disk (or a Milvus collection) and query it (`tfhash-index`,
`tfhash-search`)."""

from tfhash.search.collection import LocalCollection
from tfhash.search.encoder import FileEncoder

__all__ = ["FileEncoder", "LocalCollection"]
