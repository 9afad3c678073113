"""Writes the network fixtures the C tests compare against, in the .hyatt
format (fixtures/net-<config>.hyatt):

  meta:   the config (hyattnet.config_meta), param_seed, adam settings
  input   [1][1][H][W], points/1..3 [1][K][2] (each head's pixels), weights [1][K]
          (always whole)
  target/1..3 (the C side renders its own from points/i and compares), act/<boundary>, loss [1]
  param/<name> (initial values) only for configs small enough; the C side
      regenerates every parameter from param_seed with init_params() below
  grad/<name>, running/<bn buffer> after the step
  adam/losses [6]: the loss before each of 5 AdamW steps, and after the last

A tensor over `big` elements (meta; every tensor of the tiny config is
whole) is stored as a sample instead: <key>@idx (i32, 512 flat indices),
<key>@val (their values) and <key>@norm (L2 norm).
Run: /usr/bin/python3 tests/reference/make_net_fixtures.py"""
import os
import zlib

import numpy as np
import torch

import hyattnet as hn
import hyfile

PARAM_SEED = 20241209
# eps 1e-4, not torch's 1e-8: with 1e-8 the first AdamW steps move every
# element by ±lr whatever the size of its gradient, so elements whose true
# gradient is below float32 noise (the key part of each attention's qkv bias,
# to which softmax is invariant) move at random, and PyTorch's own float32
# and float64 runs differ by 0.1 % after two steps. With 1e-4 they agree to
# 1e-6, so the comparison tests the network, not rounding.
ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-4, weight_decay=0.01)


def splitmix64(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform_pm1(seed, name, n):
    """n floats in [-1, 1), a function of (seed, name, index) only; the C
    library's hy_param_uniform() computes the same bits."""
    with np.errstate(over="ignore"):
        key = np.uint64(seed) ^ (np.uint64(zlib.crc32(name.encode())) << np.uint64(32))
        i = np.arange(n, dtype=np.uint64)
        u = (splitmix64(key + i) >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)
    return np.float32(2) * u - np.float32(1)


def init_params(net, seed):
    """Weights U(±1/√fan_in) with fan_in = prod(shape[1:]) (bias: its weight's),
    norm weights 1 ± 0.1, norm biases ±0.1; BN running mean 0, var 1."""
    sd = net.state_dict()
    with torch.no_grad():
        for name, t in sd.items():
            if name.endswith("num_batches_tracked"):
                continue
            owner, kind = name.rsplit(".", 1)
            u = uniform_pm1(seed, name, t.numel())
            if kind == "running_mean":
                v = np.zeros_like(u)
            elif kind == "running_var":
                v = np.ones_like(u)
            elif ("norm" in owner or "bn" in owner) and kind in ("weight", "bias"):
                v = (np.float32(1) if kind == "weight" else np.float32(0)) + np.float32(0.1) * u
            else:
                w = sd[owner + ".weight"]
                fan_in = int(np.prod(w.shape[1:]))
                v = u * np.float32(1.0 / np.sqrt(fan_in))
            t.copy_(torch.from_numpy(v.reshape(tuple(t.shape))))


def put(out, key, t, big):
    a = t.detach().cpu().numpy()
    a = a.astype(np.int32 if a.dtype.kind in "iu" else np.float32)
    if a.size <= big:
        out[key] = a
        return
    flat = a.reshape(-1)
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    idx = np.sort(rng.choice(flat.size, 512, replace=False)).astype(np.int32)
    out[key + "@idx"] = idx
    out[key + "@val"] = flat[idx]
    out[key + "@norm"] = np.array([np.linalg.norm(flat.astype(np.float64))], np.float32)


def smooth_image(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 1, h // 8, w // 8, generator=g)
    x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    x = x + 0.05 * torch.randn(1, 1, h, w, generator=g)
    return (x - x.mean()) / x.std()


def make(cfg, path, store_params, big):
    torch.manual_seed(0)
    net = hn.HyattNet(cfg)
    init_params(net, PARAM_SEED)
    net.train()
    H, W, K = cfg.in_h, cfg.in_w, cfg.landmarks
    image = smooth_image(H, W, 7)
    g = torch.Generator().manual_seed(11)
    pts = torch.stack([torch.rand(1, K, generator=g) * (W - 1), torch.rand(1, K, generator=g) * (H - 1)], -1)
    weights = torch.ones(1, K)
    weights[0, K - 1] = 0  # a masked (unconfirmed) landmark
    scales = (4, 2, 1)
    points = [(pts + 0.5) / s - 0.5 for s in scales]  # pixel centres at integers
    targets = [hn.gaussian_targets(p, K, H // s, W // s, sig) for p, s, sig in zip(points, scales, cfg.sigmas)]

    out = {}
    meta = dict(hn.config_meta(cfg))
    meta.update(param_seed=PARAM_SEED, big=big, adam_lr=ADAM["lr"], adam_beta1=ADAM["betas"][0],
                adam_beta2=ADAM["betas"][1], adam_eps=ADAM["eps"], adam_weight_decay=ADAM["weight_decay"])
    put(out, "input", image, 1 << 30)
    for i in range(3):
        put(out, f"points/{i + 1}", points[i], 1 << 30)
        put(out, f"target/{i + 1}", targets[i], big)
    put(out, "weights", weights, 1 << 30)
    if store_params:
        for name, t in net.state_dict().items():
            if not name.endswith("num_batches_tracked"):
                put(out, "param/" + name, t, big)

    acts = {}
    outs = net(image, acts)
    loss = hn.loss_fn(cfg, outs, targets, weights)
    loss.backward()
    for name, t in acts.items():
        put(out, "act/" + name, t, big)
    put(out, "loss", loss.reshape(1), big)
    for name, p in net.named_parameters():
        put(out, "grad/" + name, p.grad, big)
    for name, b in net.named_buffers():
        if not name.endswith("num_batches_tracked"):
            put(out, "running/" + name, b, big)

    # 5 AdamW steps from the same initial state
    torch.manual_seed(0)
    net = hn.HyattNet(cfg)
    init_params(net, PARAM_SEED)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), **ADAM)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = hn.loss_fn(cfg, net(image), targets, weights)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    with torch.no_grad():
        losses.append(hn.loss_fn(cfg, net(image), targets, weights).item())
    out["adam/losses"] = np.array(losses, np.float32)

    hyfile.write(path, meta, out)
    print(path, os.path.getsize(path) // 1024, "KiB, loss", losses)


if __name__ == "__main__":
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    os.makedirs(here, exist_ok=True)
    torch.set_num_threads(1)
    make(hn.TINY, os.path.join(here, "net-tiny.hyatt"), store_params=True, big=1 << 30)
    make(hn.with_input(hn.SMALL, 96, 64), os.path.join(here, "net-small.hyatt"), store_params=False, big=4096)
