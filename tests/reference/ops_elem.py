"""Fixtures for tests/test-elementwise.c: global average/max pooling, mean and
max over channels (CBAM), adaptive average pooling to 4x4 (BRA), nearest and
bilinear (align_corners=True) resizing, zero padding of a channels-last map,
broadcast multiply and channel concatenation, forward and backward.

Pooling, multiply, concat and pad run in float64 from float32 inputs; the
resizes run in float32, because PyTorch computes their source indices and
weights in the input's precision and the float32 rule is the one we match.
Max cases contain deliberate ties (the gradient goes to the first index).

Run from anywhere with /usr/bin/python3; writes
tests/reference/fixtures/ops/elem-<case>.hyatt with tensors x, y, dy, dx (a,
b, da, db for multiply; x0.., dx0.. for concat) in PyTorch's layouts and the
op's parameters in the metadata."""
import os

import numpy as np
import torch
import torch.nn.functional as F

import hyfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")


def save(case, meta, tensors):
    path = os.path.join(OUT, f"elem-{case}.hyatt")
    hyfile.write(path, meta, {n: np.ascontiguousarray(a.detach().numpy()
                                                      if torch.is_tensor(a) else a,
                                                      dtype=np.float32)
                              for n, a in tensors.items()})
    print(path, os.path.getsize(path), "bytes")


def unary(rng, case, shape, fn, meta, dtype=torch.float64, x=None):
    if x is None:
        x = rng.uniform(-1, 1, shape).astype(np.float32)
    X = torch.tensor(x, dtype=dtype, requires_grad=True)
    Y = fn(X)
    dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
    Y.backward(torch.tensor(dy, dtype=dtype))
    save(case, meta, {"x": x, "y": Y, "dy": dy, "dx": X.grad})


def meanmax(X):
    return torch.cat([X.mean(1, keepdim=True), torch.max(X, 1, keepdim=True)[0]], 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)

    N, C, H, W = 2, 3, 5, 7
    unary(rng, "avgpool", (N, C, H, W), lambda X: X.mean((2, 3)),
          {"op": "global_avgpool", "N": N, "C": C, "H": H, "W": W})

    x = rng.uniform(-1, 1, (N, C, H, W)).astype(np.float32)
    x[0, 1, 0, 2] = x[0, 1, 3, 4] = 2.0  # tie: the gradient goes to (0, 2)
    unary(rng, "maxpool", None, lambda X: F.adaptive_max_pool2d(X, 1).flatten(1),
          {"op": "global_maxpool", "N": N, "C": C, "H": H, "W": W, "tie": "n0 c1"}, x=x)

    N, C, H, W = 2, 5, 4, 6
    x = rng.uniform(-1, 1, (N, C, H, W)).astype(np.float32)
    x[1, 1, 2, 3] = x[1, 4, 2, 3] = 2.0  # tie: channel 1 gets the gradient
    unary(rng, "chmeanmax", None, meanmax,
          {"op": "channel_meanmax", "N": N, "C": C, "H": H, "W": W,
           "tie": "n1 h2 w3"}, x=x)

    for (N, C, H, W) in [(1, 2, 4, 5), (1, 3, 7, 5), (2, 2, 13, 9)]:
        unary(rng, f"adapt-{H}x{W}", (N, C, H, W),
              lambda X: F.adaptive_avg_pool2d(X, (4, 4)),
              {"op": "adaptive_avgpool", "N": N, "C": C, "H": H, "W": W,
               "OH": 4, "OW": 4})

    f32 = torch.float32
    x = rng.uniform(-1, 1, (1, 1, 8, 10)).astype(np.float32)
    sub = F.interpolate(torch.tensor(x), scale_factor=0.5, mode="nearest")
    assert torch.equal(sub, torch.tensor(x)[:, :, ::2, ::2])
    for case, shape, kw in [
            ("nearest-up2", (1, 2, 3, 5), {"scale_factor": 2}),
            ("nearest-sub2", None, {"scale_factor": 0.5}),
            ("nearest-odd", (1, 1, 5, 6), {"size": (7, 74)}),
            ("nearest-oddrows", (1, 1, 6, 5), {"size": (74, 7)})]:
        unary(rng, case, shape,
              lambda X, kw=kw: F.interpolate(X, mode="nearest", **kw),
              {"op": "resize_nearest",
               "call": ", ".join(f"{k}={v}" for k, v in kw.items())}, dtype=f32,
              x=x if shape is None else None)
    for case, shape, size in [("bilinear-up2", (1, 2, 4, 5), (8, 10)),
                              ("bilinear-odd", (2, 1, 5, 3), (7, 8)),
                              ("bilinear-down", (1, 2, 7, 6), (4, 3))]:
        unary(rng, case, shape,
              lambda X, size=size: F.interpolate(X, size=size, mode="bilinear",
                                                 align_corners=True),
              {"op": "resize_bilinear", "align_corners": "true"}, dtype=f32)

    N, H, W, C, S = 2, 5, 7, 3, 4
    Hp, Wp = -(-H // S) * S, -(-W // S) * S
    unary(rng, "pad", (N, H, W, C),
          lambda X: F.pad(X, (0, 0, 0, Wp - W, 0, Hp - H)),
          {"op": "pad", "layout": "NHWC", "S": S, "Hp": Hp, "Wp": Wp})

    for case, bshape in [("mul-channel", (2, 3, 1, 1)), ("mul-pixel", (2, 1, 4, 5))]:
        a = rng.uniform(-1, 1, (2, 3, 4, 5)).astype(np.float32)
        b = rng.uniform(-1, 1, bshape).astype(np.float32)
        A = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        B = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        Y = A * B
        dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
        Y.backward(torch.tensor(dy, dtype=torch.float64))
        save(case, {"op": "mul", "broadcast": case.split("-")[1]},
             {"a": a, "b": b, "y": Y, "dy": dy, "da": A.grad, "db": B.grad})

    xs = [rng.uniform(-1, 1, (2, c, 3, 4)).astype(np.float32) for c in (2, 1, 3)]
    Xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    Y = torch.cat(Xs, 1)
    dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
    Y.backward(torch.tensor(dy, dtype=torch.float64))
    t = {f"x{i}": x for i, x in enumerate(xs)}
    t.update(y=Y, dy=dy)
    t.update({f"dx{i}": X.grad for i, X in enumerate(Xs)})
    save("concat", {"op": "concat", "count": 3}, t)


if __name__ == "__main__":
    main()
