"""Fixtures for tests/test-norm.c and tests/test-activation.c: linear,
BatchNorm2d (training step incl. the running statistics after it, and eval),
LayerNorm (eps 1e-6), GELU (erf), sigmoid, ReLU and softmax, forward and
backward, computed by PyTorch 1.13 in float64 from float32 inputs.

Run from anywhere with /usr/bin/python3; writes
tests/reference/fixtures/ops/norm-<case>.hyatt with the inputs, parameters,
outputs, a random dy and every gradient (PyTorch layouts: NCHW, tokens
[T][C], Linear weight [Cout][Cin]); op parameters are in the metadata."""
import os

import numpy as np
import torch
import torch.nn.functional as F

import hyfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")


def t64(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def save(case, meta, tensors):
    path = os.path.join(OUT, f"norm-{case}.hyatt")
    hyfile.write(path, meta, {n: np.ascontiguousarray(a, dtype=np.float32)
                              for n, a in tensors.items()})
    print(path, os.path.getsize(path), "bytes")


def backward(rng, y):
    dy = rng.uniform(-1, 1, tuple(y.shape)).astype(np.float32)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return dy


def linear(rng, case, T, Cin, Cout, bias):
    x = rng.uniform(-1, 1, (T, Cin)).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, (Cout, Cin)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, Cout).astype(np.float32)
    X, Wt = t64(x), t64(w)
    B = t64(b) if bias else None
    Y = F.linear(X, Wt, B)
    dy = backward(rng, Y)
    tensors = {"x": x, "w": w}
    if bias:
        tensors["b"] = b
    tensors.update(y=Y.detach().numpy(), dy=dy, dx=X.grad.numpy(), dw=Wt.grad.numpy())
    if bias:
        tensors["db"] = B.grad.numpy()
    save(case, {"op": "linear", "T": T, "Cin": Cin, "Cout": Cout, "bias": int(bias)},
         tensors)


def batchnorm(rng, case, N, C, H, W, training):
    eps, momentum = 1e-5, 0.1
    x = (rng.uniform(-1, 1, (N, C, H, W)) * rng.uniform(0.5, 3, (1, C, 1, 1))
         + rng.uniform(-2, 2, (1, C, 1, 1))).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, C).astype(np.float32)
    bias = rng.uniform(-0.5, 0.5, C).astype(np.float32)
    rmean = rng.uniform(-1, 1, C).astype(np.float32)
    rvar = rng.uniform(0.5, 2, C).astype(np.float32)
    bn = torch.nn.BatchNorm2d(C, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(weight))
        bn.bias.copy_(torch.tensor(bias))
        bn.running_mean.copy_(torch.tensor(rmean))
        bn.running_var.copy_(torch.tensor(rvar))
    bn.train(training)
    X = t64(x)
    Y = bn(X)
    dy = backward(rng, Y)
    tensors = {"x": x, "weight": weight, "bias": bias,
               "running_mean": rmean, "running_var": rvar,
               "y": Y.detach().numpy(), "dy": dy, "dx": X.grad.numpy(),
               "dweight": bn.weight.grad.numpy(), "dbias": bn.bias.grad.numpy()}
    if training:
        tensors["running_mean_after"] = bn.running_mean.numpy()
        tensors["running_var_after"] = bn.running_var.numpy()
    save(case, {"op": "batchnorm2d", "training": int(training), "N": N, "C": C,
                "H": H, "W": W, "eps": eps, "momentum": momentum}, tensors)


def layernorm(rng, case, T, C, eps):
    x = (rng.uniform(-1, 1, (T, C)) * 2 + rng.uniform(-3, 3, (T, 1))).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, C).astype(np.float32)
    bias = rng.uniform(-0.5, 0.5, C).astype(np.float32)
    X, Wt, B = t64(x), t64(weight), t64(bias)
    Y = F.layer_norm(X, (C,), Wt, B, eps)
    dy = backward(rng, Y)
    save(case, {"op": "layernorm", "T": T, "C": C, "eps": eps},
         {"x": x, "weight": weight, "bias": bias, "y": Y.detach().numpy(),
          "dy": dy, "dx": X.grad.numpy(), "dweight": Wt.grad.numpy(),
          "dbias": B.grad.numpy()})


def elementwise(rng, case, fn, x):
    X = t64(x)
    Y = fn(X)
    dy = backward(rng, Y)
    save(case, {"op": case, "n": x.size},
         {"x": x, "y": Y.detach().numpy(), "dy": dy, "dx": X.grad.numpy()})


def softmax(rng, case, R, L):
    x = (rng.normal(0, 3, (R, L)) + rng.uniform(-50, 50, (R, 1))).astype(np.float32)
    X = t64(x)
    Y = torch.softmax(X, dim=-1)
    dy = backward(rng, Y)
    save(case, {"op": "softmax", "R": R, "L": L},
         {"x": x, "y": Y.detach().numpy(), "dy": dy, "dx": X.grad.numpy()})


def main():
    rng = np.random.default_rng(20240612)
    os.makedirs(OUT, exist_ok=True)
    linear(rng, "linear", 7, 5, 3, True)
    linear(rng, "linear-nobias", 4, 9, 6, False)
    batchnorm(rng, "batchnorm-train", 2, 3, 3, 4, True)
    batchnorm(rng, "batchnorm-eval", 2, 3, 3, 4, False)
    layernorm(rng, "layernorm", 7, 10, 1e-6)
    # tails included: GELU's erf and sigmoid's exp far from 0
    elementwise(rng, "gelu", torch.nn.GELU(),
                np.concatenate([rng.uniform(-3, 3, 40), [-9, -6, -4.5, 4.5, 6, 9]]).astype(np.float32))
    elementwise(rng, "sigmoid", torch.sigmoid,
                np.concatenate([rng.uniform(-6, 6, 40), [-30, -15, 15, 30]]).astype(np.float32))
    x = rng.uniform(-2, 2, 45)
    x[np.abs(x) < 0.05] = 0.5  # away from the kink
    elementwise(rng, "relu", torch.relu, x.astype(np.float32))
    softmax(rng, "softmax", 5, 9)


if __name__ == "__main__":
    main()
