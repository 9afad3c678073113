"""Fixtures for tests/test-optim.c: the masked MSE loss, Adam/AdamW steps and
clip_grad_norm_, computed by PyTorch 1.13.

Run from anywhere with /usr/bin/python3; writes
tests/reference/fixtures/ops/optim-<case>.hyatt."""
import os

import numpy as np
import torch

import hyfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops")
STEPS = 5


def save(case, meta, tensors):
    path = os.path.join(OUT, f"optim-{case}.hyatt")
    hyfile.write(path, meta, {k: np.ascontiguousarray(v, dtype=np.float32)
                              for k, v in tensors.items()})
    print(path, os.path.getsize(path), "bytes")


def mse(rng):
    N, K, H, W, scale = 2, 3, 5, 7, 3000.0
    o = rng.normal(0, 0.3, (N, K, H, W)).astype(np.float32)
    t = rng.uniform(0, 1, (N, K, H, W)).astype(np.float32)
    w = np.array([[1, 0, 1], [0, 1, 1]], np.float32)  # two masked planes
    O = torch.tensor(o, dtype=torch.float64, requires_grad=True)
    T = torch.tensor(t, dtype=torch.float64)
    Wt = torch.tensor(w, dtype=torch.float64)[:, :, None, None]
    loss = scale * ((Wt * (O - T)) ** 2).mean()
    loss.backward()
    save("mse", {"op": "mse", "N": N, "K": K, "H": H, "W": W, "scale": scale,
                 "loss": repr(loss.item())},
         {"o": o, "t": t, "w": w, "loss": np.array([loss.item()]),
          "do": O.grad.numpy()})


# Parameter tensors of a fake model as one flat vector: the second one plays
# the biases (exempt from weight decay in the "groups" case).
SIZES = (29, 8)


def adam(rng, case, decoupled, wd, groups):
    n = sum(SIZES)
    p0 = rng.normal(0, 1, n).astype(np.float32)
    grads = rng.normal(0, 1, (STEPS, n)).astype(np.float32)
    grads[:, :3] *= 1e-7  # where eps matters
    grads[2:, 5] = 0.0
    lr = 1e-2
    parts = [torch.nn.Parameter(torch.tensor(a)) for a in np.split(p0, np.cumsum(SIZES)[:-1])]
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    if groups:
        opt = cls([{"params": parts[:1]}, {"params": parts[1:], "weight_decay": 0.0}],
                  lr=lr, weight_decay=wd)
    else:
        opt = cls(parts, lr=lr, weight_decay=wd)
    after = np.zeros((STEPS, n), np.float32)
    for s in range(STEPS):
        for prm, g in zip(parts, np.split(grads[s], np.cumsum(SIZES)[:-1])):
            prm.grad = torch.tensor(g)
        opt.step()
        after[s] = torch.cat([prm.detach() for prm in parts]).numpy()
    st = opt.state[parts[0]]
    meta = {"op": "adamw" if decoupled else "adam", "n": n, "steps": STEPS,
            "lr": repr(lr), "weight_decay": repr(wd), "beta1": 0.9,
            "beta2": 0.999, "eps": 1e-8,
            "no_decay": f"{SIZES[0]} {n}" if groups else "none"}
    m = torch.cat([opt.state[prm]["exp_avg"] for prm in parts]).numpy()
    v = torch.cat([opt.state[prm]["exp_avg_sq"] for prm in parts]).numpy()
    assert int(st["step"]) == STEPS
    save(case, meta, {"p0": p0, "grads": grads, "params": after, "m": m, "v": v})


def clip(rng, case, max_norm):
    n = sum(SIZES)
    g = rng.normal(0, 1, n).astype(np.float32)
    parts = [torch.nn.Parameter(torch.zeros(k)) for k in SIZES]
    for prm, a in zip(parts, np.split(g, np.cumsum(SIZES)[:-1])):
        prm.grad = torch.tensor(a)
    norm = torch.nn.utils.clip_grad_norm_(parts, max_norm)
    clipped = torch.cat([prm.grad for prm in parts]).numpy()
    save(case, {"op": "clip_grad_norm_", "n": n, "max_norm": repr(max_norm),
                "norm": repr(norm.item())},
         {"g": g, "norm": np.array([norm.item()]), "clipped": clipped})


def main():
    rng = np.random.default_rng(20240611)
    mse(rng)
    adam(rng, "adam", False, 0.0, False)
    adam(rng, "adam-wd", False, 0.1, False)
    adam(rng, "adamw", True, 0.0, False)
    adam(rng, "adamw-wd", True, 0.1, False)
    adam(rng, "adamw-groups", True, 0.1, True)
    adam(rng, "adam-groups", False, 0.1, True)
    clip(rng, "clip", 2.0)
    clip(rng, "noclip", 100.0)


if __name__ == "__main__":
    main()
