"""Fixtures for tests/test-attention.c: bi-level routing attention (BRA) and
the stage-5 global attention, forward and backward, written from
shared/NETWORK.md §2 and computed by PyTorch 1.13 autograd in float64 from
float32 inputs. Each BRA is also checked against tests/reference/hyattnet.py.

Run from anywhere with /usr/bin/python3; writes
tests/reference/fixtures/ops/attn-<case>.hyatt with x, every parameter
(PyTorch layouts, state_dict names), y, a random dy, dx, every parameter
gradient ("d" + name) and, for BRA, the routing indices idx [N][S*S][topk]
(int32, descending score). Op parameters are in the metadata.

The generator insists that the k-th and (k+1)-th routing scores of every
query region differ by more than MARGIN, so the top-k choice cannot flip
between PyTorch and C; inputs get a per-region offset so that the regions
are told apart clearly."""
import os

import numpy as np
import torch
import torch.nn.functional as F

import hyfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")
MARGIN = 1e-3


def bra(x, p, S, topk, heads, pool):
    """BRA on x [N][H][W][C]; p: dict of parameters. Returns (y, idx, A)."""
    N, H, W, C = x.shape
    Hp, Wp = -(-H // S) * S, -(-W // S) * S
    h, w = Hp // S, Wp // S
    xp = F.pad(x, (0, 0, 0, Wp - W, 0, Hp - H))            # zeros after the norm
    qkv = F.linear(xp, p["qkv.weight"], p["qkv.bias"])     # padded tokens: the bias
    q, k, v = qkv.split(C, dim=-1)

    def regions(t):  # [N][S*S][h][w][c], region r = row*S + col
        return t.reshape(N, S, h, S, w, -1).permute(0, 1, 3, 2, 4, 5).reshape(N, S * S, h, w, -1)

    qr, kr, vr = regions(q), regions(k), regions(v)
    scale = C ** -0.5                                      # full width (code quirk)
    qbar, kbar = qr.mean((2, 3)).detach(), kr.mean((2, 3)).detach()
    A = (qbar * scale) @ kbar.transpose(-1, -2)            # [N][R][R], no gradient
    idx = torch.topk(A, topk, dim=-1).indices              # descending

    R, P = S * S, pool * pool
    kv = torch.cat([kr, vr], -1).reshape(N * R, h, w, 2 * C).permute(0, 3, 1, 2)
    kvp = F.adaptive_avg_pool2d(kv, pool)                  # PyTorch's bins
    kvp = kvp.permute(0, 2, 3, 1).reshape(N, R, P, 2 * C)
    gathered = torch.stack([kvp[n][idx[n]] for n in range(N)])  # [N][R][topk][P][2C]
    kg, vg = gathered.reshape(N, R, topk * P, 2 * C).split(C, dim=-1)

    d = C // heads
    qh = qr.reshape(N, R, h * w, heads, d).transpose(2, 3)  # [N][R][m][T][d]
    kh = kg.reshape(N, R, topk * P, heads, d).transpose(2, 3)
    vh = vg.reshape(N, R, topk * P, heads, d).transpose(2, 3)
    att = ((qh * scale) @ kh.transpose(-1, -2)).softmax(-1)
    o = (att @ vh).transpose(2, 3).reshape(N, S, S, h, w, C)
    o = o.permute(0, 1, 3, 2, 4, 5).reshape(N, Hp, Wp, C)
    lepe = F.conv2d(v.permute(0, 3, 1, 2), p["lepe.weight"], p["lepe.bias"],
                    padding=2, groups=C).permute(0, 2, 3, 1)
    y = F.linear(o + lepe, p["proj.weight"], p["proj.bias"])
    return y[:, :H, :W], idx, A


def mhsa(x, p, heads):
    """Stage-5 attention on x [N][H][W][C]."""
    N, H, W, C = x.shape
    d = C // heads
    q, k, v = F.linear(x, p["qkv.weight"]).reshape(N, H * W, 3, heads, d).permute(2, 0, 3, 1, 4)
    att = ((q @ k.transpose(-1, -2)) * d ** -0.5).softmax(-1)
    o = (att @ v).transpose(1, 2).reshape(N, H, W, C)
    lepe = F.conv2d(x.permute(0, 3, 1, 2), p["lepe.weight"], p["lepe.bias"],
                    padding=2, groups=C).permute(0, 2, 3, 1)
    return F.linear(o + lepe, p["proj.weight"], p["proj.bias"])


def params(rng, C, qkv_bias):
    b = C ** -0.5
    p = {"qkv.weight": rng.uniform(-b, b, (3 * C, C))}
    if qkv_bias:
        p["qkv.bias"] = rng.uniform(-b, b, 3 * C)
    p["lepe.weight"] = rng.uniform(-0.2, 0.2, (C, 1, 5, 5))
    p["lepe.bias"] = rng.uniform(-0.2, 0.2, C)
    p["proj.weight"] = rng.uniform(-b, b, (C, C))
    p["proj.bias"] = rng.uniform(-b, b, C)
    return {k: v.astype(np.float32) for k, v in p.items()}


def region_input(rng, N, H, W, C, S):
    """Per-region offsets plus token noise, so region means stay apart."""
    rh, rw = -(-H // S), -(-W // S)
    off = rng.normal(0, 1, (N, S, S, C))
    ys, xs = np.arange(H) // rh, np.arange(W) // rw
    x = off[:, ys][:, :, xs] + rng.normal(0, 0.5, (N, H, W, C))
    return x.astype(np.float32)


def routing_margin(A, topk):
    if topk == A.shape[-1]:
        return np.inf
    s = np.sort(A.numpy(), axis=-1)[..., ::-1]
    return float((s[..., topk - 1] - s[..., topk]).min())


def cross_check_hyattnet(x, p, S, topk, heads, pool, y, idx):
    """The same BRA through the network's own module (tests/reference/hyattnet.py)."""
    import hyattnet
    C = x.shape[-1]
    m = hyattnet.BRA(C, S, topk, heads, pool).double()
    m.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in p.items()})
    with torch.no_grad():
        y2, idx2 = m._forward(torch.tensor(x, dtype=torch.float64))
    assert torch.equal(idx2, idx), "hyattnet.BRA routes differently"
    err = (y2 - y).abs().max().item()
    assert err < 1e-10, f"hyattnet.BRA differs by {err}"


def save(case, meta, tensors):
    path = os.path.join(OUT, f"attn-{case}.hyatt")
    hyfile.write(path, meta, tensors)
    print(path, os.path.getsize(path), "bytes")


def make_bra(seed, case, N, H, W, C, S, topk, heads, pool=4):
    for attempt in range(100):
        rng = np.random.default_rng(seed + 1000 * attempt)
        p = params(rng, C, True)
        x = region_input(rng, N, H, W, C, S)
        with torch.no_grad():
            _, _, A = bra(torch.tensor(x, dtype=torch.float64),
                          {k: torch.tensor(v, dtype=torch.float64) for k, v in p.items()},
                          S, topk, heads, pool)
        margin = routing_margin(A, topk)
        if margin > MARGIN:
            break
    else:
        raise SystemExit(f"{case}: no seed with routing margin > {MARGIN}")
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    Y, idx, _ = bra(X, P, S, topk, heads, pool)
    cross_check_hyattnet(x, p, S, topk, heads, pool, Y.detach(), idx)
    dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
    Y.backward(torch.tensor(dy, dtype=torch.float64))
    f32 = lambda t: t.detach().numpy().astype(np.float32)
    tensors = {"x": x, **p, "y": f32(Y), "dy": dy, "dx": f32(X.grad)}
    tensors.update({"d" + k: f32(P[k].grad) for k in p})
    tensors["idx"] = idx.numpy().astype(np.int32)
    save(case, {"op": "bra", "N": N, "H": H, "W": W, "C": C, "S": S, "topk": topk,
                "heads": heads, "pool": pool, "routing_margin": f"{margin:.3g}"}, tensors)


def make_mhsa(seed, case, N, H, W, C, heads):
    rng = np.random.default_rng(seed)
    p = params(rng, C, False)
    x = rng.normal(0, 1, (N, H, W, C)).astype(np.float32)
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    Y = mhsa(X, P, heads)
    dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
    Y.backward(torch.tensor(dy, dtype=torch.float64))
    f32 = lambda t: t.detach().numpy().astype(np.float32)
    tensors = {"x": x, **p, "y": f32(Y), "dy": dy, "dx": f32(X.grad)}
    tensors.update({"d" + k: f32(P[k].grad) for k in p})
    save(case, {"op": "mhsa", "N": N, "H": H, "W": W, "C": C, "heads": heads}, tensors)


def main():
    os.makedirs(OUT, exist_ok=True)
    # padding (1 row, 1 column) and overlapping bins: regions 6 x 5 -> 4 x 4
    make_bra(1, "bra-pad", 1, 11, 9, 8, 2, 2, 2)
    # batch 2, 5 heads of 2 channels, 3 of 9 regions routed, regions 3 x 3
    # (pooled up to 4 x 4) with 2 padded rows and 1 padded column
    make_bra(2, "bra-batch", 2, 7, 8, 10, 3, 3, 5)
    # the small config's stage 1 (C 8, S 8, top-1, 1 head) at 16 x 15 tokens
    # (regions 2 x 2, pooled up to 4 x 4; one padded column)
    make_bra(3, "bra-stage1", 1, 16, 15, 8, 8, 1, 1)
    # stage 5: 8 heads of 2 channels
    make_mhsa(4, "mhsa", 1, 4, 5, 16, 8)
    make_mhsa(5, "mhsa-batch", 2, 4, 3, 16, 8)


if __name__ == "__main__":
    main()
