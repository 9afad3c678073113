"""PyTorch's side of the BRA speed comparison: forward + backward of the BRA in
ops_attention.py (float32, batch 1) at the `small` configuration's stage
shapes, and of the stage-5 attention, at torch.set_num_threads(1) and (2).
Prints, in ms, the median and minimum wall time and the median process CPU
time of --runs timed runs after --warmup untimed ones (on a busy machine
the minimum and the CPU time are the steadier figures).

  /usr/bin/python3 tests/reference/bench_bra.py [--runs 20] [--warmup 3]

The C side is timed by `hyatt bench ops` (or a harness calling
hy_bra_forward/hy_bra_backward on the same shapes)."""
import argparse
import statistics
import time

import numpy as np
import torch

from ops_attention import bra, mhsa, params

# name, C, H, W, S, topk, heads  (small: 512 x 416 input, stage j at /2^j)
STAGES = [("stage1", 8, 256, 208, 8, 1, 1),
          ("stage2", 16, 128, 104, 8, 4, 2),
          ("stage3", 40, 64, 52, 8, 8, 5),
          ("stage4", 64, 32, 26, 4, 4, 8)]
STAGE5 = ("stage5", 128, 16, 13, 8)


def timed(fn, runs, warmup):
    """(median wall, min wall, median process CPU) in ms"""
    for _ in range(warmup):
        fn()
    ts, cs = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ts) * 1e3, min(ts) * 1e3, statistics.median(cs) * 1e3


def tensors(rng, C, H, W, qkv_bias):
    x = torch.tensor(rng.normal(0, 1, (1, H, W, C)).astype(np.float32), requires_grad=True)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params(rng, C, qkv_bias).items()}
    dy = torch.tensor(rng.uniform(-1, 1, (1, H, W, C)).astype(np.float32))
    return x, p, dy


def step(f, x, p, dy):
    def run():
        x.grad = None
        for t in p.values():
            t.grad = None
        f(x, p).backward(dy)
    return run


def report(name, row):
    print(f"{name:8} {row[0][0]:17.2f} {row[0][1]:7.2f} {row[0][2]:7.2f} "
          f"{row[1][0]:18.2f} {row[1][1]:7.2f} {row[1][2]:7.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}; forward + backward, ms: median and min wall time, "
          f"median process CPU time, of {a.runs} runs")
    print(f"{'shape':8} {'1 thread: median':>17} {'min':>7} {'cpu':>7} {'2 threads: median':>18} {'min':>7} {'cpu':>7}")
    for name, C, H, W, S, topk, heads in STAGES:
        x, p, dy = tensors(rng, C, H, W, True)
        f = lambda x, p: bra(x, p, S, topk, heads, 4)[0]
        row = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            row.append(timed(step(f, x, p, dy), a.runs, a.warmup))
        report(name, row)
    name, C, H, W, heads = STAGE5
    x, p, dy = tensors(rng, C, H, W, False)
    row = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        row.append(timed(step(lambda x, p: mhsa(x, p, heads), x, p, dy), a.runs, a.warmup))
    report(name, row)


if __name__ == "__main__":
    main()
