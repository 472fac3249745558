.PHONY: venv demo test bench metrics-speed

venv:
	python3 -m venv .venv && .venv/bin/pip install -e ".[test,faiss,serving]"

demo: venv
	.venv/bin/tfhash-train --config=configs/demo.py --workdir=runs/demo

test:
	bash .ci/run

bench: venv
	.venv/bin/python benchmarks/cifar10_baselines.py

metrics-speed: venv
	.venv/bin/python benchmarks/metrics_speed.py
