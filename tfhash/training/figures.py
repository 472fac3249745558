"""Report figures that show what a model does: retrieved images, saliency maps."""

import os

import numpy as np
import tensorflow as tf

from tfhash import retrieval


def _images(source, items, size):
    """uint8 [n, size, size, 3] of source items, in the given order."""
    from tfhash.data import pipeline

    items = np.asarray(items, np.int64)
    order = np.argsort(items, kind="stable")
    loaded = [pipeline.resize(image, size).numpy() for image in source.images(items[order])]
    result = np.empty((len(items), size, size, 3), np.uint8)
    result[order] = np.stack(loaded)
    return result


def retrieval_figure(path, source, split, query_codes, db_codes, num_queries=5, k=10, size=64):
    """A row per query: the query, then its top-k database images framed green
    (relevant) or red (not relevant)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    picks = np.linspace(0, len(split.query) - 1, num=min(num_queries, len(split.query))).astype(int)
    k = min(k, len(split.database))
    _, positions = retrieval.hamming_topk(query_codes[picks], db_codes, k)
    positions = positions.numpy()
    queries = _images(source, split.query[picks], size)
    results = _images(source, split.database[positions.ravel()], size).reshape(len(picks), k, size, size, 3)
    fig, axes = plt.subplots(len(picks), k + 1, figsize=(1.1 * (k + 1), 1.2 * len(picks)), squeeze=False)
    for row, q in enumerate(picks):
        axes[row, 0].imshow(queries[row])
        axes[row, 0].set_title("query", fontsize=7)
        q_labels = source.labels[split.query[q]]
        for col in range(k):
            item = split.database[positions[row, col]]
            relevant = bool(np.dot(q_labels, source.labels[item]) > 0)
            ax = axes[row, col + 1]
            ax.imshow(results[row, col])
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:green" if relevant else "tab:red")
                spine.set_linewidth(2.5)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("top-10 by Hamming distance (green: shares a label with the query)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def saliency_figure(path, model, source, split, image_size, count=8):
    """Query images with the model's saliency maps overlaid (methods with saliency())."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    picks = np.linspace(0, len(split.query) - 1, num=min(count, len(split.query))).astype(int)
    images = _images(source, split.query[picks], image_size)
    maps = model.saliency(tf.cast(images, tf.float32), training=False).numpy()[..., 0]
    fig, axes = plt.subplots(2, len(picks), figsize=(1.4 * len(picks), 3), squeeze=False)
    for col in range(len(picks)):
        axes[0, col].imshow(images[col])
        axes[1, col].imshow(images[col])
        axes[1, col].imshow(maps[col], cmap="jet", alpha=0.5, vmin=0, vmax=1)
        axes[1, col].set_title(f"mean {maps[col].mean():.2f}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("query images and their saliency maps (red: kept, blue: masked)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
