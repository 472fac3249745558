"""Choosing the distribution strategy: all local GPUs, or N logical CPUs."""

import json
import os

import tensorflow as tf
from absl import logging

_STRATEGIES = {}


def configure_cpu_replicas(num_cpu_replicas):
    """Splits the CPU into logical devices; must run before TensorFlow starts up."""
    if num_cpu_replicas <= 1 or tf.config.list_physical_devices("GPU"):
        return
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current and len(current) == num_cpu_replicas:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_cpu_replicas
        )
    except RuntimeError as e:
        raise RuntimeError(
            f"num_cpu_replicas={num_cpu_replicas} must be set before TensorFlow has "
            f"initialised its devices (it has {len(tf.config.list_logical_devices('CPU'))} "
            "logical CPU(s)); set it at process start"
        ) from e


def _num_workers():
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def make_strategy(num_cpu_replicas=0):
    """MirroredStrategy over all GPUs, else over `num_cpu_replicas` logical CPUs (1 if 0).

    One strategy object is kept per device set: a second MirroredStrategy over the
    same devices in one process would clash with the first one's collectives.
    """
    if _num_workers() > 1:
        # Every worker would write the same checkpoints and report: chief-only
        # writing is not implemented (and not tested) yet, so refuse rather than
        # corrupt a workdir.
        raise ValueError(
            "TF_CONFIG names several workers, but multi-worker training "
            "(MultiWorkerMirroredStrategy) is not supported yet; unset TF_CONFIG to train "
            "on this machine's devices"
        )
    else:
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            devices = [d.name for d in gpus]
        else:
            configure_cpu_replicas(num_cpu_replicas)
            cpus = tf.config.list_logical_devices("CPU")
            count = max(1, num_cpu_replicas)
            if len(cpus) < count:
                raise ValueError(f"num_cpu_replicas={count} but only {len(cpus)} logical CPUs exist")
            devices = [d.name for d in cpus[:count]]
        key = tuple(devices)
        if key not in _STRATEGIES:
            _STRATEGIES[key] = tf.distribute.MirroredStrategy(devices)
    strategy = _STRATEGIES[key]
    logging.info("Strategy %s with %d replica(s)", type(strategy).__name__,
                 strategy.num_replicas_in_sync)
    return strategy
