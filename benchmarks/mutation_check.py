"""The mutation check: breaks the code on purpose and proves the suite notices.

Each mutation below replaces one exact piece of a source file (it must occur exactly
once, or the mutation is reported as stale) in a temporary copy of the repository,
runs the tests named to catch it, and reads their results from pytest's JUnit XML:

- caught: every test listed in `must_fail` failed (and the run did fail);
- survived: a listed test passed: that test does not guard what it claims to;
- stale: the piece to replace is no longer in the file (update the mutation).

Before any mutation, the same tests run on the unmutated copy and must all pass,
so a failure under a mutation is the mutation's doing. Not part of CI (it runs the
chosen tests once per mutation); docs/mutation_check.md has the run time.

  python benchmarks/mutation_check.py                 # every mutation
  python benchmarks/mutation_check.py --only dsh-pair-sign,restore-disabled
  python benchmarks/mutation_check.py --list
"""

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository root
    old: str  # exact text, found exactly once
    new: str
    must_fail: tuple  # pytest node ids; each must fail under the mutation
    why: str


RESUME_TESTS = (
    "tests/test_training.py::test_resume_continues_exactly",
    "tests/test_contract.py::test_unused_network_is_built_checkpointed_and_resumes_bit_exactly",
    "tests/test_contract.py::test_two_stage_method_resumes_in_the_right_stage",
    "tests/test_doh.py::test_resume_mid_run_with_the_temperature_schedule",
    "tests/test_crossmodal.py::test_resume_mid_alternation",
    "tests/test_dagh.py::test_stage_boundary_resume_and_guided_codes",
    "tests/test_dsah.py::test_training_loop_runs_and_resumes_dsah",
)

MUTATIONS = (
    Mutation("restore-disabled", "tfhash/training/loop.py",
             "    if checkpoints.restore():", "    if False and checkpoints.restore():",
             RESUME_TESTS,
             "a rerun ignores the checkpoints and trains from epoch 1 (deterministic, so it "
             "still ends with the same weights)"),
    Mutation("dsh-pair-sign", "tfhash/models/dsh.py",
             "loss = pair + self.alpha * reg", "loss = -pair + self.alpha * reg",
             ("tests/test_training_losses.py::test_dsh",),
             "DSH maximises its contrastive loss"),
    Mutation("dpsh-quant-sign", "tfhash/losses/likelihood.py",
             "relevant, pairs), pair_loss=pair,\n                quant_loss=quant)\n"
             "    return with_balance(pair + quant_weight * quant",
             "relevant, pairs), pair_loss=pair,\n                quant_loss=quant)\n"
             "    return with_balance(pair - quant_weight * quant",
             ("tests/test_training_losses.py::test_dpsh",),
             "DPSH's bank likelihood rewards the quantisation error"),
    Mutation("dpsh-batch-quant-sign", "tfhash/losses/likelihood.py",
             "pairs.similarity, count), pair_loss=pair,\n                quant_loss=quant)\n"
             "    return with_balance(pair + quant_weight * quant",
             "pairs.similarity, count), pair_loss=pair,\n                quant_loss=quant)\n"
             "    return with_balance(pair - quant_weight * quant",
             ("tests/test_training_losses.py::test_dpsh",),
             "DPSH without a bank rewards the quantisation error"),
    Mutation("doh-class-sign", "tfhash/models/doh.py",
             "return pair + self.class_weight * class_loss, logs",
             "return pair - self.class_weight * class_loss, logs",
             ("tests/test_training_losses.py::test_doh",),
             "DOH maximises its classification losses"),
    Mutation("dagh-attention-sign", "tfhash/models/dagh.py",
             "loss = loss + self.attention_weight * attention",
             "loss = loss - self.attention_weight * attention",
             ("tests/test_training_losses.py::test_dagh_both_stages",),
             "DAgH's stage 1 maximises its attention loss"),
    Mutation("hashgan-adversarial-dropped", "tfhash/models/hashgan.py",
             "loss = retrieval + weight * adversarial", "loss = retrieval + 0.0 * weight * adversarial",
             ("tests/test_training_losses.py::test_hashgan_hashing_step",),
             "HashGAN's hashing module stops preserving the unattended similarities"),
    Mutation("dsah-balance-dropped", "tfhash/models/dsah.py",
             "                                        balance_weight=self.balance_weight)",
             "                                        balance_weight=0.0)",
             ("tests/test_training_losses.py::test_dsah_hashing_step",),
             "DSaH's hashing step ignores loss.balance_weight"),
    Mutation("dcmh-balance-sign", "tfhash/models/dcmh.py",
             "loss = pair + self.gamma * quant + self.eta * balance",
             "loss = pair + self.gamma * quant - self.eta * balance",
             ("tests/test_crossmodal.py::test_dcmh_loss_matches_numpy",),
             "DCMH rewards unbalanced bits"),
    Mutation("stock-block-merge-reversed", "tfhash/retrieval/hamming.py",
             "all_d, all_i = tf.concat(cand_d, axis=1), tf.concat(cand_i, axis=1)",
             "all_d, all_i = tf.concat(cand_d[::-1], axis=1), tf.concat(cand_i[::-1], axis=1)",
             ("tests/test_hamming.py::test_blocked_stock_paths_match_numpy",
              "tests/test_hamming.py::test_public_functions_without_the_custom_op"),
             "the stock top-k's merge across database blocks breaks ties by higher index"),
    Mutation("stock-query-blocks-reversed", "tfhash/retrieval/hamming.py",
             "return parts[0] if len(parts) == 1 else tf.concat(parts, axis=0)",
             "return parts[0] if len(parts) == 1 else tf.concat(parts[::-1], axis=0)",
             ("tests/test_hamming.py::test_blocked_stock_paths_match_numpy",
              "tests/test_hamming.py::test_public_functions_without_the_custom_op"),
             "the stock distance matrix puts its query blocks in the wrong order"),
    Mutation("codes-npz-plain-open", "tfhash/training/reporting.py",
             "    with atomic.atomic_write(path, \"wb\") as f:\n        np.savez_compressed",
             "    with open(path, \"wb\") as f:\n        np.savez_compressed",
             ("tests/test_faults.py::test_each_workdir_file_is_all_or_nothing",),
             "codes.npz is written in place: a failed write leaves half a file"),
    Mutation("eval-resize-nearest", "tfhash/data/pipeline.py",
             "lambda image: preprocess.resize(image, size), num_parallel_calls=tuning.PARALLEL_CALLS",
             "lambda image: tf.cast(tf.image.resize(image, [size, size], method=\"nearest\"), "
             "tf.uint8), num_parallel_calls=tuning.PARALLEL_CALLS",
             ("tests/test_export.py::test_export_codes_equal_the_reports_on_resized_images",),
             "evaluation resizes differently from training's preprocessing and the export"),
    Mutation("chance-is-label-share", "tfhash/retrieval/metrics.py",
             "    return mean_average_precision(draw(len(query_labels)), draw(len(db_labels)), query_labels,\n"
             "                                  db_labels)",
             "    return float(np.mean(query_labels @ db_labels.T > 0))",
             ("tests/test_metrics.py::test_chance_map_is_what_random_codes_score",),
             "the chance column reports the share of relevant pairs, not random codes' mAP"),
    Mutation("grpc-retries-unbounded", "tfhash/serving/client.py",
             "                if code == grpc.StatusCode.UNAVAILABLE and attempt < self.retries:",
             "                if code == grpc.StatusCode.UNAVAILABLE:",
             ("tests/test_serving.py::test_unreachable_server_is_a_clear_error_after_retries",),
             "an unreachable server is retried for ever"),
    Mutation("grpc-no-backoff", "tfhash/serving/client.py",
             "                    time.sleep(wait)\n                    wait *= 2\n                    continue\n"
             "                raise _grpc_error",
             "                    continue\n                raise _grpc_error",
             ("tests/test_serving.py::test_unreachable_server_is_a_clear_error_after_retries",),
             "retries hammer the server with no wait between them"),
    Mutation("collection-codes-reversed", "tfhash/search/collection.py",
             "np.savez(f, codes=codes, ids=", "np.savez(f, codes=codes[::-1], ids=",
             ("tests/test_search.py::test_interrupted_and_incremental_indexing",),
             "tfhash-index stores each batch's codes against the wrong keys"),
    Mutation("search-k-clamped", "tfhash/export/saved_model.py",
             "        k = _checked_k(k, size)", "        k = tf.clip_by_value(k, 1, size)",
             ("tests/test_serving.py::test_malformed_requests_are_refused_by_the_model_itself",),
             "the exported search answers k outside 1..n with a silently different k"),
    Mutation("mih-seen-rule", "tfhash/ops/cc/kernels/multi_index_impl.h",
             "seen = u < t ? sub <= r : sub < r;", "seen = u < t ? sub < r : sub < r;",
             ("tests/test_multi_index.py::test_multi_index_equals_brute_force",
              "tests/test_multi_index.py::test_every_k_from_one_to_n_on_a_small_database"),
             "the multi-index search keeps a code found in two tables twice"),
    Mutation("mih-stop-early", "tfhash/ops/cc/kernels/multi_index_impl.h",
             "const int64_t bound = static_cast<int64_t>(m) * r + t;",
             "const int64_t bound = static_cast<int64_t>(m) * r + t + 1;",
             ("tests/test_multi_index.py::test_multi_index_equals_brute_force",
              "tests/test_multi_index.py::test_threads_sharing_one_query_give_the_same_answers"),
             "the multi-index search stops one step before the k nearest are certain"),
    Mutation("index-segment-ties", "tfhash/retrieval/index.py",
             "best = np.lexsort((order, d), axis=1)[:, :k]",
             "best = np.lexsort((-order, d), axis=1)[:, :k]",
             ("tests/test_multi_index.py::test_removal_update_and_segments_in_both_modes",),
             "results of several segments break ties by the later insertion"),
    Mutation("auto-retry-averaged", "tfhash/retrieval/index.py",
             "    if fresh:\n        seen[path] = seconds\n",
             "    if fresh:\n        _average(seen, path, seconds)\n",
             ("tests/test_multi_index.py::test_auto_comes_back_from_one_slow_call_at_the_first_retry",),
             "auto's retry of the slower path joins that path's stale average instead of "
             "replacing it, so one slow call keeps auto on the slower path for many retries"),
    Mutation("gpu-histogram-threads", "tfhash/ops/cc/kernels/hamming_gpu.cu.cc",
             "constexpr int kHistThreads = 256;", "constexpr int kHistThreads = 250;",
             ("tests/test_gpu_algorithm.py::test_the_model_uses_the_kernels_constants",),
             "the histogram's blocks are not whole warps, which its __match_any_sync needs"),
)


def repository_files():
    """Tracked and untracked-but-not-ignored files (what a commit would hold)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p and os.path.isfile(os.path.join(REPO, p))]


def copy_repository(target):
    for path in repository_files():
        destination = os.path.join(target, path)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy2(os.path.join(REPO, path), destination)


def run_tests(copy, node_ids, report, timeout):
    """Runs pytest on `node_ids` inside `copy`; returns (exit code, {node id: outcome})."""
    env = dict(os.environ, PYTHONPATH=copy, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--junitxml={report}", "--timeout", str(timeout), *node_ids]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    outcomes = {}
    if os.path.exists(report):
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            path = case.get("classname", "").replace(".", "/") + ".py"
            node = f"{path}::{case.get('name')}"
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            outcomes[node] = "failed" if failed else ("skipped" if skipped else "passed")
        os.remove(report)
    return result.returncode, outcomes, result.stdout[-3000:]


def outcome_of(node_id, outcomes):
    """The outcome of a node id, which may name a parametrised test without its
    parameters: failed if any of its cases failed."""
    matches = [o for n, o in outcomes.items() if n == node_id or n.startswith(node_id + "[")]
    if not matches:
        return "not run"
    return "failed" if "failed" in matches else matches[0]


def apply(copy, mutation):
    path = os.path.join(copy, mutation.path)
    with open(path) as f:
        text = f.read()
    if text.count(mutation.old) != 1:
        return None
    with open(path, "w") as f:
        f.write(text.replace(mutation.old, mutation.new))
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated mutation names")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per test")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutations {sorted(unknown)}; --list shows them")
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:30s} {m.path}: {m.why}")
        return 0
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="tfhash-mutation-") as scratch:
        copy = os.path.join(scratch, "repo")
        copy_repository(copy)
        probe = subprocess.run([sys.executable, "-c", "import tfhash; print(tfhash.__file__)"],
                               cwd=copy, env=dict(os.environ, PYTHONPATH=copy),
                               capture_output=True, text=True)
        if not probe.stdout.strip().startswith(copy):
            print(f"the copy's tfhash is not the one imported ({probe.stdout.strip()})")
            return 2
        report = os.path.join(scratch, "junit.xml")
        needed = sorted({node for m in chosen for node in m.must_fail})
        print(f"unmutated copy: {len(needed)} tests ...", flush=True)
        code, outcomes, tail = run_tests(copy, needed, report, args.timeout)
        broken = [n for n in needed if outcome_of(n, outcomes) != "passed"]
        if code != 0 or broken:
            print(f"the unmutated copy does not pass the chosen tests: {broken}\n{tail}")
            return 2
        print(f"  all pass ({time.time() - start:.0f}s)\n", flush=True)
        rows = []
        for m in chosen:
            began = time.time()
            original = apply(copy, m)
            if original is None:
                rows.append((m, "stale", "the text to replace is not in the file exactly once", 0))
                continue
            try:
                code, outcomes, tail = run_tests(copy, list(m.must_fail), report, args.timeout)
            finally:
                with open(os.path.join(copy, m.path), "w") as f:
                    f.write(original)
            results = {n: outcome_of(n, outcomes) for n in m.must_fail}
            passing = [n for n, o in results.items() if o != "failed"]
            verdict = "caught" if code != 0 and not passing else "survived"
            detail = ("every listed test failed" if verdict == "caught"
                      else "not failing: " + ", ".join(f"{n} ({results[n]})" for n in passing))
            rows.append((m, verdict, detail, time.time() - began))
            print(f"{verdict:8s} {m.name} ({time.time() - began:.0f}s): {detail}", flush=True)
    caught = sum(1 for _, verdict, _, _ in rows if verdict == "caught")
    print(f"\n{caught} of {len(rows)} mutations caught in {time.time() - start:.0f}s")
    for m, verdict, detail, _ in rows:
        if verdict != "caught":
            print(f"  {verdict}: {m.name} ({m.path}): {m.why}; {detail}")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
