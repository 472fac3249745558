"""Builds the packed-Hamming custom op against the installed TensorFlow.

  python -m tfhash.ops.build [--force]

Compile and link flags come from `tf.sysconfig` (C++ standard, ABI, include and
library paths). No `-march=native`: the CPU kernels are compiled three times, for
AVX-512 VPOPCNTDQ, AVX2 and portable C++ (each file with its own instruction-set
flags), and the op picks one at run time from the CPU it runs on, so a library
built on one machine (a wheel, a ModelServer image) runs well on another. The
library is cached under `$TFHASH_CACHE_DIR` (default `~/.cache/tfhash/ops`) in a
folder named by the TensorFlow version and a hash of the sources and flags; the
sources compile in parallel, concurrent builds take a file lock, and the library
appears under its final name only once complete (written to a temporary name, then
renamed).
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tfhash import atomic

HERE = os.path.dirname(os.path.abspath(__file__))
# source -> its instruction-set flags (the others are compiled for any x86-64)
SOURCES = {
    "cc/ops/hamming_ops.cc": (),
    "cc/kernels/hamming_kernels.cc": (),
    "cc/kernels/hamming_cpu.cc": (),
    "cc/kernels/multi_index.cc": (),
    "cc/kernels/hamming_cpu_scalar.cc": (),
    "cc/kernels/hamming_cpu_avx2.cc": ("-mavx2",),
    "cc/kernels/hamming_cpu_avx512.cc": ("-mavx512f", "-mavx512vpopcntdq"),
}
HEADERS = ("cc/kernels/hamming_kernels.h", "cc/kernels/hamming_cpu_isa.h",
           "cc/kernels/hamming_cpu_impl.h", "cc/kernels/multi_index.h",
           "cc/kernels/multi_index_impl.h")
CUDA_SOURCE = "cc/kernels/hamming_gpu.cu.cc"
LIBRARY = "_hamming_ops.so"
OPTIMISE = ("-O3", "-fPIC")
ISA_PATHS = ("avx512-vpopcntdq", "avx2", "scalar")


class BuildError(RuntimeError):
    """The op could not be compiled; the message carries the compiler's output."""


def cache_root():
    root = os.environ.get("TFHASH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tfhash", "ops")
    return root


def _tf_flags():
    import tensorflow as tf

    return tf.__version__, list(tf.sysconfig.get_compile_flags()), list(tf.sysconfig.get_link_flags())


def want_cuda():
    """Build the CUDA kernels? With nvcc, a CUDA-enabled TF and a visible GPU, or when
    TFHASH_BUILD_CUDA=1 (to check that they compile on a machine without a GPU)."""
    forced = os.environ.get("TFHASH_BUILD_CUDA", "")
    if forced:
        return forced.lower() not in ("0", "false", "no")
    import tensorflow as tf

    return bool(shutil.which("nvcc") and tf.test.is_built_with_cuda()
                and tf.config.list_physical_devices("GPU"))


def build_dir(cuda=False):
    """The cache folder of the library matching this TF and these sources and flags."""
    version, cflags, lflags = _tf_flags()
    digest = hashlib.sha256(b"cuda" if cuda else b"cpu")
    for name in tuple(SOURCES) + HEADERS + ((CUDA_SOURCE,) if cuda else ()):
        with open(os.path.join(HERE, name), "rb") as f:
            digest.update(f.read())
    digest.update(" ".join(cflags + lflags + list(OPTIMISE) + [
        " ".join(flags) for flags in SOURCES.values()]).encode())
    return os.path.join(cache_root(), f"tf{version}-{digest.hexdigest()[:12]}")


def _compiler():
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not compiler:
        raise BuildError("no C++ compiler found (install g++ or set CXX)")
    return compiler


def _cuda_home():
    nvcc = shutil.which("nvcc")
    if not nvcc:
        raise BuildError("TFHASH_BUILD_CUDA is set but nvcc is not on PATH")
    home = os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))
    for candidate in (home, "/usr/local/cuda"):
        if os.path.exists(os.path.join(candidate, "include", "cuda_runtime.h")):
            return nvcc, candidate
    raise BuildError(f"found {nvcc} but no CUDA headers beside it")


def _compile_cuda(folder, verbose):
    """nvcc -> object file of the TF-free CUDA kernels; returns (object, link flags)."""
    import tensorflow as tf

    nvcc, home = _cuda_home()
    arch = "-arch=native" if tf.config.list_physical_devices("GPU") else "-arch=sm_90"
    fd, obj = tempfile.mkstemp(prefix=".cuda-", suffix=".o", dir=folder)
    os.close(fd)
    command = [nvcc, "-O3", "-std=c++17", arch, "-Xcompiler", "-fPIC", "-c", "-x", "cu",
               os.path.join(HERE, CUDA_SOURCE), "-o", obj]
    if verbose:
        print(" ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        os.unlink(obj)
        raise BuildError(f"compiling the CUDA kernels failed:\n{result.stderr[-4000:]}")
    lib = os.path.join(home, "lib64")
    return obj, [f"-L{lib}", f"-Wl,-rpath,{lib}", "-lcudart"]


def _compile_sources(compiler, cflags, defines, folder, verbose, prefix=()):
    """Every source to an object file, in parallel, each with its own instruction-set
    flags; returns the object paths (removed again if any compile fails)."""
    include = f"-I{os.path.join(HERE, 'cc', 'kernels')}"
    jobs = []
    for source, isa_flags in SOURCES.items():
        fd, obj = tempfile.mkstemp(prefix=".obj-", suffix=".o", dir=folder)
        os.close(fd)
        command = [*prefix, compiler, *OPTIMISE, *isa_flags, *cflags, *defines, include, "-c",
                   os.path.join(HERE, source), "-o", obj]
        if verbose:
            print(" ".join(command), flush=True)
        jobs.append((source, obj, subprocess.Popen(command, stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE, text=True)))
    failures = []
    for source, obj, process in jobs:
        try:
            _, stderr = process.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            process.kill()
            failures.append(f"{source}: took longer than 900 s")
            continue
        if process.returncode != 0:
            failures.append(f"{source}:\n{stderr[-3000:]}")
    objects = [obj for _, obj, _ in jobs]
    if failures:
        for obj in objects:
            os.unlink(obj)
        raise BuildError("compiling the op failed:\n" + "\n".join(failures))
    return objects


def build(force=False, verbose=False, cuda=None, background=False):
    """Builds (or finds in the cache) the op library; returns its path.

    `cuda`: also build the CUDA kernels (default: `want_cuda()`). `background`: the
    compilers run at a lower priority (`nice -n 10`), so that training beside them
    keeps the cores it uses.
    """
    prefix = ("nice", "-n", "10") if background and shutil.which("nice") else ()
    cuda = want_cuda() if cuda is None else cuda
    folder = build_dir(cuda)
    library = os.path.join(folder, LIBRARY)
    if os.path.exists(library) and not force:
        return library
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait
        if os.path.exists(library) and not force:
            return library
        compiler = _compiler()
        version, cflags, lflags = _tf_flags()
        fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".so", dir=folder)
        os.close(fd)
        extra, objects, defines = [], [], []
        try:
            if cuda:
                obj, link = _compile_cuda(folder, verbose)
                defines, extra, objects = ["-DGOOGLE_CUDA=1"], link, [obj]
            objects += _compile_sources(compiler, cflags, defines, folder, verbose, prefix)
            command = [*prefix, compiler, "-shared", *OPTIMISE, *objects, "-o", tmp, *lflags, *extra]
            if verbose:
                print(" ".join(command), flush=True)
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired as e:
                raise BuildError(f"linking the op took longer than {e.timeout}s") from e
            if result.returncode != 0:
                raise BuildError(f"linking the op failed:\n{result.stderr[-4000:]}")
        except BaseException:
            os.unlink(tmp)
            raise
        finally:
            for obj in objects:
                if os.path.exists(obj):
                    os.unlink(obj)
        info = {"tensorflow": version, "compiler": compiler, "command": command[len(prefix):],
                "isa_paths": list(ISA_PATHS), "cuda": bool(cuda)}
        atomic.write_json(os.path.join(folder, "build.json"), info, indent=1)
        os.replace(tmp, library)
    return library


def build_info(library):
    with open(os.path.join(os.path.dirname(library), "build.json")) as f:
        return json.load(f)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the tfhash packed-Hamming op.")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    try:
        library = build(force=args.force, verbose=True)
    except BuildError as e:
        print(f"tfhash.ops.build: {e}", file=sys.stderr)
        return 1
    info = build_info(library)
    print(f"built {library} (TensorFlow {info['tensorflow']}, CPU paths: "
          f"{', '.join(info['isa_paths'])}, "
          f"CUDA kernels: {'yes' if info.get('cuda') else 'no'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
