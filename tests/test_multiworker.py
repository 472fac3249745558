"""Several machines: two `tfhash-train` processes on 127.0.0.1 with a multi-worker
TF_CONFIG train under MultiWorkerMirroredStrategy like one process with two logical
CPUs, only the chief writes, and a job that lost a worker resumes when rerun."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

from tests.conftest import REPO

TIMEOUT = 300  # seconds per job; a tiny run takes well under a minute on 2 cores

TINY = ["--config.method=dpsh", "--config.bits=12", "--config.data.image_size=16",
        "--config.data.query_per_class=5", "--config.data.train_per_class=8",
        "--config.model.widths=(4,8)", "--config.model.convs_per_stage=1",
        "--config.train.batch_size=20", "--config.train.log_every=2"]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def command(workdir, epochs, extra=()):
    return [sys.executable, "-m", "tfhash.training.train_main",
            f"--config={REPO}/configs/demo.py", f"--workdir={workdir}",
            f"--config.train.epochs={epochs}", *TINY, *extra]


def launch(ports, index, workdir, epochs, tmp_path, name):
    tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                 "task": {"type": "worker", "index": index}}
    scratch = tmp_path / f"tmp-{name}"
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, TF_CONFIG=json.dumps(tf_config), TF_CPP_MIN_LOG_LEVEL="2",
               TMPDIR=str(scratch))
    log = open(tmp_path / f"{name}.log", "w")
    process = subprocess.Popen(command(workdir, epochs), cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    process.log_path = tmp_path / f"{name}.log"
    process.scratch = scratch
    return process


def finish(processes):
    deadline = time.time() + TIMEOUT
    try:
        for p in processes:
            p.wait(timeout=max(1, deadline - time.time()))
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    return [(p.returncode, p.log_path.read_text()) for p in processes]


def final_weights(workdir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(workdir / "checkpoints")))
    names = [n for n in reader.get_variable_to_shape_map()
             if n.startswith("model_weights/") and "OPTIMIZER" not in n]
    return {n: reader.get_tensor(n) for n in names}


def test_two_workers_train_like_two_replicas_and_only_the_chief_writes(tmp_path):
    ports = free_ports(2)
    chief_dir, worker_dir = tmp_path / "chief", tmp_path / "worker1"
    # separate workdirs, as on machines without shared storage: worker 1's must stay empty
    results = finish([launch(ports, 0, chief_dir, 2, tmp_path, "w0"),
                      launch(ports, 1, worker_dir, 2, tmp_path, "w1")])
    for code, log in results:
        assert code == 0, log[-3000:]
    assert "Strategy CollectiveAllReduceStrategy with 2 replica(s) (worker 0)" in results[0][1]
    assert "worker 1 done; the chief wrote" in results[1][1]
    assert json.loads((chief_dir / "report.json").read_text())["epochs"] == 2
    assert not worker_dir.exists()
    assert not os.listdir(tmp_path / "tmp-w1")  # the worker's checkpoint copies are gone

    single = subprocess.run(command(tmp_path / "single", 2, ["--config.num_cpu_replicas=2"]),
                            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert single.returncode == 0, single.stderr[-3000:]
    multi, local = final_weights(chief_dir), final_weights(tmp_path / "single")
    assert multi.keys() == local.keys() and len(multi) > 10
    for name in multi:
        # same global batches, same order of updates; only the all-reduce's summation
        # order differs (measured: at most 2.4e-7 apart after 2 epochs)
        np.testing.assert_allclose(multi[name], local[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert any(np.any(v != 0) for v in multi.values())

    # rerun: the chief resumes at epoch 2, worker 1 (no shared storage) at 0: refused
    results = finish([launch(ports, 0, chief_dir, 2, tmp_path, "again0"),
                      launch(ports, 1, worker_dir, 2, tmp_path, "again1")])
    for code, log in results:
        assert code == 1, log[-3000:]
        assert "the workers disagree" in log and "storage all workers share" in log
        assert "Traceback" not in log


def test_a_killed_worker_stops_the_job_and_the_rerun_resumes(tmp_path):
    ports = free_ports(2)
    workdir = tmp_path / "shared"
    epochs = 8
    chief = launch(ports, 0, workdir, epochs, tmp_path, "w0")
    worker = launch(ports, 1, workdir, epochs, tmp_path, "w1")
    deadline = time.time() + TIMEOUT
    try:
        while time.time() < deadline and chief.poll() is None:
            latest = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
            if latest and int(latest.rsplit("-", 1)[1]) >= 2:
                break
            time.sleep(0.05)
        assert chief.poll() is None, chief.log_path.read_text()[-3000:]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        chief.wait(timeout=TIMEOUT)
    finally:
        for p in (chief, worker):
            if p.poll() is None:
                p.kill()
    log = chief.log_path.read_text()
    assert chief.returncode == 1, log[-3000:]
    assert "the multi-worker job stopped: another worker failed or became unreachable" in log
    assert "Traceback" not in log
    done = int(tf.train.latest_checkpoint(str(workdir / "checkpoints")).rsplit("-", 1)[1])
    assert 2 <= done < epochs

    results = finish([launch(ports, 0, workdir, epochs, tmp_path, "r0"),
                      launch(ports, 1, workdir, epochs, tmp_path, "r1")])
    for code, log in results:
        assert code == 0, log[-3000:]
        assert f"Resumed from {workdir}/checkpoints/ckpt-{done} (epoch {done} done)" in log
        assert f"epoch {done + 1}/{epochs}" in log and f"epoch 1/{epochs} " not in log
    assert json.loads((workdir / "report.json").read_text())["epochs"] == epochs


def test_bad_tf_config_is_a_clear_error(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 5}}))
    result = subprocess.run(command(tmp_path / "w", 1), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert result.returncode == 1
    assert "TF_CONFIG task {'type': 'worker', 'index': 5} is not one of the cluster's tasks" in result.stderr
    assert "Traceback" not in result.stderr
    env["TF_CONFIG"] = "{not json"
    result = subprocess.run(command(tmp_path / "w", 1), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert result.returncode == 1 and "TF_CONFIG is not valid JSON" in result.stderr
    env["TF_CONFIG"] = json.dumps({"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                                   "task": {"type": "worker", "index": 0}})
    result = subprocess.run(command(tmp_path / "w", 1, ["--config.num_cpu_replicas=2"]),
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 1 and "one CPU replica per worker" in result.stderr
    assert not (tmp_path / "w").exists()
