"""The one training loop and its command-line drivers."""
