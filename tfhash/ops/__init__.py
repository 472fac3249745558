"""The packed-Hamming custom op: built on first use (or by `python -m tfhash.ops.build`),
loaded, and used by `tfhash.retrieval`; stock TensorFlow ops otherwise.

`TFHASH_DISABLE_CUSTOM_OPS=1` forces the stock path. The CPU kernels pick their
instruction set at run time (AVX-512 VPOPCNTDQ, AVX2 or portable C++);
`TFHASH_CPU_ISA=avx512|avx2|scalar` forces one (read at every call). `backend()`
says which implementation and path run now.
"""

import os
import threading

import tensorflow as tf
from absl import logging

_LOCK = threading.Lock()
_STATE = {"loaded": False, "module": None, "backend": None}


def _disabled():
    return os.environ.get("TFHASH_DISABLE_CUSTOM_OPS", "").lower() not in ("", "0", "false", "no")


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
        from tfhash.ops import build

        try:
            if not os.path.exists(os.path.join(build.build_dir(build.want_cuda()), build.LIBRARY)):
                logging.info("Building the tfhash Hamming op for this TensorFlow (once; about "
                             "16 s on 2 cores; python -m tfhash.ops.build does it ahead of time)")
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
