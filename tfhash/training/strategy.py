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


def _tf_config():
    try:
        return json.loads(os.environ.get("TF_CONFIG") or "{}")
    except ValueError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from e


def num_workers():
    """How many machines TF_CONFIG names (chief and workers); 1 without TF_CONFIG."""
    cluster = _tf_config().get("cluster", {})
    return max(1, len(cluster.get("worker", [])) + len(cluster.get("chief", [])))


def _check_tf_config():
    config = _tf_config()
    cluster, task = config.get("cluster", {}), config.get("task", {})
    unknown = sorted(set(cluster) - {"chief", "worker"})
    if unknown:
        raise ValueError(f"TF_CONFIG cluster has job(s) {unknown}; tfhash-train uses 'chief' "
                         "(optional, at most one) and 'worker' (MultiWorkerMirroredStrategy)")
    if len(cluster.get("chief", [])) > 1:
        raise ValueError("TF_CONFIG names more than one chief")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise ValueError(f"TF_CONFIG task {task} is not one of the cluster's tasks "
                         f"({ {k: len(v) for k, v in cluster.items()} }); set "
                         "task.type and task.index for this machine")


def is_chief(strategy):
    """True on the one task that writes the workdir: the chief, or worker 0 when the
    cluster has no chief; always True on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    jobs = resolver.cluster_spec().as_dict()
    if "chief" in jobs:
        return resolver.task_type == "chief"
    return resolver.task_type == "worker" and resolver.task_id == 0


def task_name(strategy):
    """"chief", "worker 1", ... (for log lines); "local" on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return "local"
    return f"{resolver.task_type} {resolver.task_id}"


def make_strategy(num_cpu_replicas=0):
    """MultiWorkerMirroredStrategy when TF_CONFIG names several machines; otherwise
    MirroredStrategy over all GPUs, else over `num_cpu_replicas` logical CPUs (1 if 0).

    One strategy object is kept per device set: a second MirroredStrategy over the
    same devices in one process would clash with the first one's collectives. The
    multi-worker strategy must be made before TensorFlow runs anything else
    (tfhash-train makes it first thing).
    """
    if num_workers() > 1:
        _check_tf_config()
        key = "multi_worker"
        if key not in _STRATEGIES:
            if num_cpu_replicas > 1 and not tf.config.list_physical_devices("GPU"):
                # TF's multi-worker strategy uses every GPU of a worker, or one CPU.
                raise ValueError(
                    f"num_cpu_replicas={num_cpu_replicas} with a multi-worker TF_CONFIG: "
                    "MultiWorkerMirroredStrategy uses one CPU replica per worker; set "
                    "--config.num_cpu_replicas=0 (or 1), or add workers")
            _STRATEGIES[key] = tf.distribute.MultiWorkerMirroredStrategy()
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
    logging.info("Strategy %s with %d replica(s) (%s)", type(strategy).__name__,
                 strategy.num_replicas_in_sync, task_name(strategy))
    return strategy


def check_same_epoch(strategy, epoch):
    """Every worker must resume from the same epoch (the same checkpoint)."""
    if num_workers() <= 1:
        return
    per_replica = strategy.run(lambda: tf.constant(float(epoch)))
    total = float(strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
    if total != epoch * strategy.num_replicas_in_sync:
        raise ValueError(
            f"this worker ({task_name(strategy)}) resumed at epoch {epoch} but the workers "
            f"disagree (mean epoch {total / strategy.num_replicas_in_sync:g}): every worker must "
            "read the chief's checkpoints, so the workdir must be on storage all workers share "
            "(NFS, GCS)")


def barrier(strategy):
    """Waits until every worker gets here (a no-op on one machine)."""
    if num_workers() > 1:
        per_replica = strategy.run(lambda: tf.constant(1.0))
        strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()
