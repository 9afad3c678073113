"""Fixtures for tests/test-conv.c: conv2d (dense, strided, dilated, 1x1,
depthwise) and conv_transpose2d forward and backward, computed by PyTorch 1.13
in float64 from float32 inputs.

Run from anywhere with /usr/bin/python3; writes
tests/reference/fixtures/ops/conv-<case>.hyatt with tensors x, w, b (when the
case has a bias), y, dy, dx, dw, db in PyTorch's layouts and the op's
parameters in the metadata."""
import os

import numpy as np
import torch
import torch.nn.functional as F

import hyfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")

# case: op, N, Cin, H, W, Cout, k, stride, pad, dil, groups, bias
CASES = {
    "3x3": ("conv", 2, 3, 9, 7, 5, 3, 1, 1, 1, 1, True),
    "patch4s2": ("conv", 1, 3, 11, 10, 4, 4, 2, 1, 1, 1, True),
    "dil2": ("conv", 1, 4, 9, 8, 3, 3, 1, 2, 2, 1, False),
    "1x1": ("conv", 2, 6, 5, 7, 4, 1, 1, 0, 1, 1, True),
    "cbam7": ("conv", 1, 2, 9, 11, 1, 7, 1, 3, 1, 1, False),
    "dw3": ("conv", 2, 5, 9, 8, 5, 3, 1, 1, 1, 5, True),
    "dw5": ("conv", 1, 4, 11, 7, 4, 5, 1, 2, 1, 4, True),
    "convT4s2": ("conv_transpose", 1, 4, 5, 6, 3, 4, 2, 1, 1, 1, True),
}


def make(rng, case, spec):
    op, N, Cin, H, W, Cout, k, s, p, d, g, bias = spec
    x = rng.uniform(-1, 1, (N, Cin, H, W)).astype(np.float32)
    wshape = (Cout, Cin // g, k, k) if op == "conv" else (Cin, Cout, k, k)
    w = rng.uniform(-0.5, 0.5, wshape).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, Cout).astype(np.float32)
    X = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    Wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    B = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
    if op == "conv":
        Y = F.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, groups=g)
    else:
        Y = F.conv_transpose2d(X, Wt, B, stride=s, padding=p)
    dy = rng.uniform(-1, 1, tuple(Y.shape)).astype(np.float32)
    Y.backward(torch.tensor(dy, dtype=torch.float64))
    tensors = {"x": x, "w": w}
    if bias:
        tensors["b"] = b
    tensors.update(y=Y.detach().numpy(), dy=dy, dx=X.grad.numpy(), dw=Wt.grad.numpy())
    if bias:
        tensors["db"] = B.grad.numpy()
    meta = {"op": op, "N": N, "Cin": Cin, "H": H, "W": W, "Cout": Cout,
            "kh": k, "kw": k, "stride": s, "ph": p, "pw": p, "dil": d,
            "groups": g, "bias": int(bias)}
    path = os.path.join(OUT, f"conv-{case}.hyatt")
    hyfile.write(path, meta, {n: np.ascontiguousarray(a, dtype=np.float32)
                              for n, a in tensors.items()})
    print(path, os.path.getsize(path), "bytes")


def main():
    rng = np.random.default_rng(20240611)
    os.makedirs(OUT, exist_ok=True)
    for case, spec in CASES.items():
        make(rng, case, spec)


if __name__ == "__main__":
    main()
