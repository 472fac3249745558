"""DPSH's loss, with and without its memory bank, on a model that is not a CNN
trained from scratch: a linear map and a one-hidden-layer MLP over the raw pixels of
scikit-learn's digits (1,000 training items, 300 queries, 797 database items).

Shows that the pairwise likelihood and the bank learn well when the inputs already
carry class structure (docs/dpsh_from_scratch.md).

  python benchmarks/dpsh_diagnosis.py
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn import datasets  # noqa: E402

from tfhash import losses, retrieval  # noqa: E402

BITS, BATCH, STEPS = 32, 50, 3000


def run(pixels, labels, train, test, bank_mode, hidden):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    stack = ([keras.layers.Dense(256, activation="relu")] if hidden else []) + [keras.layers.Dense(BITS)]
    net = keras.Sequential(stack)
    net(pixels[:1])
    x_train, y_train = pixels[train], labels[train]
    bank = tf.Variable(tf.zeros([len(train), BITS]))
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(idx):
        with tf.GradientTape() as tape:
            u = net(tf.gather(x_train, idx))
            if bank_mode:
                others = tf.tensor_scatter_nd_update(tf.convert_to_tensor(bank), idx[:, None],
                                                     tf.stop_gradient(u))
                bank.assign(others)
                similarity = losses.label_similarity(tf.gather(y_train, idx), y_train)
            else:
                others = u
                similarity = losses.label_similarity(tf.gather(y_train, idx), tf.gather(y_train, idx))
            pair = tf.reduce_mean(losses.pairwise_likelihood(u, others, similarity))
            loss = pair + 0.1 * tf.reduce_mean(losses.quantization(u)) / BITS
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return pair

    for _ in range(STEPS):
        pair = step(tf.constant(rng.choice(len(train), BATCH, replace=False)))
    queries, database = test[:300], test
    m = retrieval.mean_average_precision(
        net(pixels[queries]).numpy(), net(pixels[database]).numpy(), labels[queries], labels[database])
    return float(pair), m


def main():
    digits = datasets.load_digits()
    pixels = (digits.data / 16.0 - 0.3).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[digits.target]
    order = np.random.default_rng(0).permutation(len(pixels))
    train, test = order[:1000], order[1000:]
    for hidden in (False, True):
        for bank_mode in (True, False):
            pair, m = run(pixels, labels, train, test, bank_mode, hidden)
            print(f"{'MLP' if hidden else 'linear'} {'memory bank' if bank_mode else 'in-batch'}: "
                  f"final pair loss {pair:.4f}, mAP@all {m:.4f}")


if __name__ == "__main__":
    main()
