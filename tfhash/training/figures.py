"""Report figures: precision-recall and P@N curves, retrieved images, and the maps a
method declares (`HashingModel.figure_maps`: saliency, attention)."""

import os

import numpy as np

from tfhash import retrieval
from tfhash.data import item_images


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def curves_figures(folder, curves, bits, task, suffix=""):
    """`pr_curve<suffix>.png` (precision and recall by Hamming radius) and
    `precision_at_n<suffix>.png` of one task's curves (`evaluation.score_task`)."""
    plt = pyplot()
    radii, precision, recall = curves["pr"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(recall, precision, marker="o", markersize=3)
    for r in range(min(3, len(radii))):
        ax.annotate(f"r={r}", (recall[r], precision[r]), fontsize=7)
    ax.set(xlabel="recall", ylabel="precision", title=f"{task}: PR by Hamming radius ({bits} bits)",
           xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"pr_curve{suffix}.png"), dpi=110)
    plt.close(fig)
    ks, values = curves["pn"]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(ks, values, marker="o", markersize=3)
    ax.set(xlabel="N (top-N returned)", ylabel="precision", title=f"{task}: P@N ({bits} bits)",
           xscale="log", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"precision_at_n{suffix}.png"), dpi=110)
    plt.close(fig)


def query_picks(split, count):
    """Evenly spaced positions among the queries (the same ones in every figure)."""
    return np.linspace(0, len(split.query) - 1, num=min(count, len(split.query))).astype(int)


def retrieval_figure(path, source, split, query_codes, db_codes, task="image->image",
                     num_queries=5, k=10, size=64):
    """A row per query: the query, then its top-k database items framed green
    (relevant) or red (not relevant); items are shown by their images."""
    plt = pyplot()
    picks = query_picks(split, num_queries)
    k = min(k, len(split.database))
    _, positions = retrieval.hamming_topk(query_codes[picks], db_codes, k)
    positions = positions.numpy()
    queries = item_images(source, split.query[picks], size)
    results = item_images(source, split.database[positions.ravel()], size).reshape(
        len(picks), k, size, size, 3)
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
    fig.suptitle(f"{task}: top-{k} by Hamming distance (green: shares a label with the query)",
                 fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def maps_figure(path, images, maps):
    """Images (top row) and the same images with `maps` (a `contract.Maps`) overlaid,
    on the maps' own colour scale (each map's own range when it has none)."""
    plt = pyplot()
    values = np.asarray(maps.maps, np.float32)
    fig, axes = plt.subplots(2, len(images), figsize=(1.4 * len(images), 3), squeeze=False)
    for col, image in enumerate(images):
        axes[0, col].imshow(image)
        axes[1, col].imshow(image)
        lo = values[col].min() if maps.vmin is None else maps.vmin
        hi = values[col].max() if maps.vmax is None else maps.vmax
        axes[1, col].imshow(values[col], cmap="jet", alpha=0.5, vmin=lo, vmax=max(hi, lo + 1e-12))
        axes[1, col].set_title(f"mean {values[col].mean():.2g}" if maps.vmax is not None
                               else f"max {values[col].max():.2g}", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(maps.title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
