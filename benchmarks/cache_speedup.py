"""Training from the trunk cache against running the frozen trunk at every step, in
one run: DPSH on Oxford Flowers-17 in the pretrained setting
(configs/dpsh_flowers17_pretrained.py, 32 bits, batch 64), trained for --epochs
epochs with `data.trunk_cache=True` (the tail reads cached 14 x 14 x 320 maps) and
then with `data.trunk_cache=False` (the trunk runs on the pixels at every step),
each in its own workdir under a temporary folder. The epochs after the first (which
traces) are compared: median seconds per epoch and their ratio.

It also counts the multiply-adds per image (from the layers' shapes): the trunk's
forward pass, and the tail's training step (forward, and about twice that backward),
which bounds what the cache can save.

  python benchmarks/cache_speedup.py [--epochs=4]

Needs the [pretrained] extra and ../shared/data/flowers17.tar.gz (skips cleanly
without it); not part of CI. The cache is built (or reused) before the first run's
epochs start and is not counted in them.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks import method_table  # noqa: E402


def multiply_adds(backbone, size):
    """Multiply-adds per image of the trunk's convs and of the tail's, from their shapes."""
    import keras

    def count(layers, shape):
        total = 0
        for layer in layers:
            if hasattr(layer, "folded_call"):  # an MBConv block
                inner = [x for x in (layer.expand, layer.depthwise, layer.project) if x is not None]
                part, _ = count(inner, shape)
                total += part
                shape = layer.compute_output_shape(shape)
                continue
            out = layer.compute_output_shape(shape)
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                k = layer.kernel_size
                total += out[1] * out[2] * k[0] * k[1] * shape[-1]
            elif isinstance(layer, keras.layers.Conv2D):
                k = layer.kernel_size
                total += out[1] * out[2] * k[0] * k[1] * shape[-1] * out[-1]
            shape = out
        return total, shape

    shape, trunk, tail = (1, size, size, 3), 0, 0
    for index in range(len(backbone.stage_names)):
        macs, shape = count(backbone.stage_layers(index), shape)
        if index < backbone.cut:
            trunk += macs
        else:
            tail += macs
    return trunk, tail


def epoch_seconds(log):
    return [float(s) for s in re.findall(r"epoch \d+/\d+ done in ([0-9.]+)s", log)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    spec = method_table.DATASETS["flowers17_pretrained"]
    if not os.path.exists(spec["archive"]):
        print(f"skipped: {spec['archive']} is not there (see ../shared/data/README.md)")
        return
    root = method_table.extract(spec["archive"], spec["extract_dir"], "flowers17")
    config_path = os.path.join(REPO, "configs", "dpsh_flowers17_pretrained.py")
    from tfhash.methods import common
    from tfhash.training import config_files

    config = config_files.load_config_file(config_path)
    backbone = common.backbone(config.model, config.data.image_size)
    backbone.build((None, config.data.image_size, config.data.image_size, 3))
    trunk_macs, tail_macs = multiply_adds(backbone, config.data.image_size)
    print(f"{method_table.cpu_name()}; {config.model.backbone} at {config.data.image_size} px, "
          f"cut at {config.model.train_from!r}")
    print(f"multiply-adds per image: trunk forward {trunk_macs / 1e6:.0f}M; tail forward "
          f"{tail_macs / 1e6:.0f}M, a training step about 3x that: {3 * tail_macs / 1e6:.0f}M "
          f"(the method's layers after the backbone not counted)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="cache_speedup_") as tmp:
        for cached in (True, False):
            workdir = os.path.join(tmp, f"cache_{cached}")
            command = [sys.executable, "-m", "tfhash.training.train_main", f"--config={config_path}",
                       f"--workdir={workdir}", f"--config.train.epochs={args.epochs}",
                       f"--config.data.source={spec['source'](root)}", "--config.bits=32",
                       f"--config.data.trunk_cache={cached}"]
            print("$ " + " ".join(command), flush=True)
            run = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
            if run.returncode:
                sys.exit(f"the run failed:\n{run.stderr[-3000:]}")
            seconds = epoch_seconds(run.stderr + run.stdout)
            results[cached] = seconds
            print(f"  epochs (s): {', '.join(f'{s:.1f}' for s in seconds)}", flush=True)
    cached, pixels = (statistics.median(results[c][1:]) for c in (True, False))
    print(f"median epoch after the first: from the cache {cached:.1f} s, from pixels "
          f"{pixels:.1f} s: the cache is {pixels / cached:.1f}x faster")


if __name__ == "__main__":
    main()
