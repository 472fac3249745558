"""SavedModel export with serving signatures (stock TF ops only)."""

from tfhash.export.saved_model import export, next_version

__all__ = ["export", "next_version"]
