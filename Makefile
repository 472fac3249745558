.PHONY: venv demo test bench bench-flowers17 dsah-probe metrics-speed

venv:
	python3 -m venv .venv && .venv/bin/pip install -e ".[test,faiss,serving,milvus,milvus-server,beam,pretrained]"

demo: venv
	.venv/bin/tfhash-train --config=configs/demo.py --workdir=runs/demo

test:
	bash .ci/run

bench: venv
	.venv/bin/python benchmarks/method_table.py --dataset=cifar10

bench-flowers17: venv
	.venv/bin/python benchmarks/method_table.py --dataset=flowers17

dsah-probe: venv
	.venv/bin/python benchmarks/dsah_patch_probe.py

metrics-speed: venv
	.venv/bin/python benchmarks/metrics_speed.py
