"""The packed-Hamming custom op: built on first use (or by `python -m tfhash.ops.build`),
loaded, and used by `tfhash.retrieval`; stock TensorFlow ops otherwise.

`TFHASH_DISABLE_CUSTOM_OPS=1` forces the stock path. The CPU kernels pick their
instruction set at run time (AVX-512 VPOPCNTDQ, AVX2 or portable C++);
`TFHASH_CPU_ISA=avx512|avx2|scalar` forces one (read at every call). `backend()`
says which implementation and path run now.
"""

import os
import threading
import time

import tensorflow as tf
from absl import logging

_LOCK = threading.Lock()
_STATE = {"loaded": False, "module": None, "backend": None, "background": None}
BUILD_SECONDS = 16  # on 2 cores of an AMD EPYC (BUILD_NOTES.md)


def _disabled():
    return os.environ.get("TFHASH_DISABLE_CUSTOM_OPS", "").lower() not in ("", "0", "false", "no")


def build_in_background():
    """Starts compiling the op in a background thread when it is not built yet (and
    not disabled), so that a first run's evaluation does not wait for it; returns the
    thread or None. `load()` waits for it. tfhash-train calls this before training."""
    if _disabled() or _STATE["loaded"] or _STATE["background"] is not None:
        return _STATE["background"]
    from tfhash.ops import build

    if os.path.exists(os.path.join(build.build_dir(build.want_cuda()), build.LIBRARY)):
        return None
    outcome = {}

    def compile_it():
        start = time.time()
        try:
            build.build(background=True)
        except Exception as e:  # load() builds again and reports the error
            outcome["error"] = e
        outcome["seconds"] = time.time() - start

    thread = threading.Thread(target=compile_it, name="tfhash-op-build", daemon=True)
    thread.outcome = outcome
    logging.info("Building the tfhash Hamming op for this TensorFlow in the background while "
                 "training runs (once; about %d s on 2 cores; python -m tfhash.ops.build does it "
                 "ahead of time)", BUILD_SECONDS)
    thread.start()
    _STATE["background"] = thread
    return thread


def _wait_for_background():
    thread = _STATE["background"]
    if thread is None:
        return
    if thread.is_alive():
        start = time.time()
        logging.info("Waiting for the tfhash Hamming op's background build to finish")
        thread.join()
        logging.info("The tfhash Hamming op's build finished (waited %.1fs)", time.time() - start)
    elif "seconds" in thread.outcome:
        logging.info("The tfhash Hamming op was built in the background in %.1fs (no wait)",
                     thread.outcome["seconds"])
    _STATE["background"] = None


def load():
    """The op module (with `packed_hamming_distance`, `packed_hamming_top_k`) or None."""
    if _disabled():
        if _STATE["backend"] != "stock TF (TFHASH_DISABLE_CUSTOM_OPS)":
            _STATE["backend"] = "stock TF (TFHASH_DISABLE_CUSTOM_OPS)"
            logging.info("tfhash Hamming backend: %s", _STATE["backend"])
        return None
    with _LOCK:
        if _STATE["loaded"]:
            return _STATE["module"]
        _STATE["loaded"] = True
        _wait_for_background()
        from tfhash.ops import build

        try:
            if not os.path.exists(os.path.join(build.build_dir(build.want_cuda()), build.LIBRARY)):
                logging.info("Building the tfhash Hamming op for this TensorFlow (once; about "
                             "%d s on 2 cores; python -m tfhash.ops.build does it ahead of time)",
                             BUILD_SECONDS)
            library = build.build()
            module = tf.load_op_library(library)
            for name in ("PackedHammingDistance", "PackedHammingTopK"):
                tf.no_gradient(name)
            _STATE["module"] = module
            info = build.build_info(library)
            _STATE["cuda"] = bool(info.get("cuda"))
            _STATE["backend"] = _describe(module)
        except (build.BuildError, OSError, tf.errors.NotFoundError, ValueError) as e:
            _STATE["backend"] = "stock TF (custom op unavailable)"
            logging.warning("tfhash custom Hamming op unavailable, using stock TF ops: %s",
                            str(e).splitlines()[0] if str(e) else type(e).__name__)
        logging.info("tfhash Hamming backend: %s", _STATE["backend"])
        return _STATE["module"]


def _describe(module):
    isa = module.packed_hamming_cpu_isa().numpy().decode()
    return f"custom CPU op ({isa})" + (" + CUDA kernels" if _STATE.get("cuda") else "")


def backend():
    """Which implementation `tfhash.retrieval` uses: custom CPU op (and the instruction
    set its CPU kernels use now) or stock TF."""
    module = load()
    return _describe(module) if module is not None else _STATE["backend"]
