"""Clients for models exported by tfhash-export and served by TF Serving."""

from tfhash.serving.client import Client, ServingError

__all__ = ["Client", "ServingError"]
