"""HYATT-Net in PyTorch, written from shared/NETWORK.md (not from any other
code), used only to make test fixtures and to time PyTorch in the benchmark.

Layouts follow PyTorch; parameter names are the state_dict names, which the C
model files use too."""
import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    name: str
    in_h: int
    in_w: int
    widths: tuple
    bra_heads: tuple
    regions: tuple
    topk: tuple
    mlp_ratio: tuple
    s5_heads: int
    neck: int
    img_width: int      # E
    mid_width: int      # M
    landmarks: int      # K
    pool: int = 4       # pooled key/value grid per region
    sigmas: tuple = (2.0, 2.0, 4.0)
    loss_weights: tuple = (1000.0, 3000.0, 3000.0)


PAPER = Config("paper", 1216, 1024, (64, 128, 320, 512, 1024), (2, 4, 10, 16),
               (16, 16, 16, 8), (1, 4, 8, 16), (8, 8, 8, 4, 4), 8, 256, 32,
               256 + 32 + 19, 19)
SMALL = Config("small", 512, 416, (8, 16, 40, 64, 128), (1, 2, 5, 8),
               (8, 8, 8, 4), (1, 4, 8, 4), (8, 8, 8, 4, 4), 8, 32, 8, 16, 19)
# Every module type, odd sizes, padding (stage 3: 8x12 tokens in 3x3 regions)
# and overlapping pooling bins, at a size whose fixtures stay a few hundred KB.
TINY = Config("tiny", 64, 96, (4, 8, 8, 16, 16), (1, 2, 2, 2), (4, 2, 3, 1),
              (2, 3, 4, 1), (2, 2, 2, 2, 2), 8, 8, 4, 8, 2)


def with_input(cfg, h, w, name=None):
    from dataclasses import replace
    return replace(cfg, in_h=h, in_w=w, name=name or cfg.name)


class BRA(nn.Module):
    """Bi-level routing attention on N x H x W x C (NETWORK.md §2)."""

    def __init__(self, C, S, topk, heads, pool):
        super().__init__()
        self.C, self.S, self.topk, self.heads, self.pool = C, S, topk, heads, pool
        self.qkv = nn.Linear(C, 3 * C)
        self.lepe = nn.Conv2d(C, C, 5, padding=2, groups=C)
        self.proj = nn.Linear(C, C)
        self.scale = C ** -0.5  # the full width: a quirk of the published code

    def routing(self, x):
        """The top-k region indices for x (N x H x W x C), for fixtures."""
        return self._forward(x)[1]

    def forward(self, x):
        return self._forward(x)[0]

    def _forward(self, x):
        N, H, W, C = x.shape
        S, P = self.S, self.pool
        Hp, Wp = -(-H // S) * S, -(-W // S) * S
        x = F.pad(x, (0, 0, 0, Wp - W, 0, Hp - H))
        h, w = Hp // S, Wp // S
        qkv = self.qkv(x)
        q, k, v = qkv.split(C, dim=-1)

        def regions(t):  # N x S² x h·w x c, region r = row·S + col
            c = t.shape[-1]
            return t.reshape(N, S, h, S, w, c).permute(0, 1, 3, 2, 4, 5).reshape(N, S * S, h * w, c)

        qr = regions(q)
        qbar, kbar = qr.mean(2), regions(k).mean(2)
        logits = (qbar * self.scale) @ kbar.transpose(-1, -2)
        idx = torch.topk(logits.detach(), self.topk, dim=-1).indices  # N x S² x topk

        kv = torch.cat([k, v], dim=-1)
        kvr = kv.reshape(N, S, h, S, w, 2 * C).permute(0, 1, 3, 5, 2, 4).reshape(N * S * S, 2 * C, h, w)
        pooled = F.adaptive_avg_pool2d(kvr, P).reshape(N, S * S, 2 * C, P * P).transpose(-1, -2)
        gathered = pooled[torch.arange(N)[:, None, None], idx]  # N x S² x topk x P² x 2C
        gathered = gathered.reshape(N, S * S, self.topk * P * P, 2 * C)
        kg, vg = gathered.split(C, dim=-1)

        m, d = self.heads, C // self.heads
        qh = qr.reshape(N, S * S, h * w, m, d).transpose(2, 3)
        kh = kg.reshape(N, S * S, -1, m, d).transpose(2, 3)
        vh = vg.reshape(N, S * S, -1, m, d).transpose(2, 3)
        att = ((qh * self.scale) @ kh.transpose(-1, -2)).softmax(-1)
        out = (att @ vh).transpose(2, 3).reshape(N, S, S, h, w, C)
        out = out.permute(0, 1, 3, 2, 4, 5).reshape(N, Hp, Wp, C)
        out = out + self.lepe(v.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        out = self.proj(out)
        return out[:, :H, :W, :], idx


class GlobalAttention(nn.Module):
    """Stage-5 attention: all tokens, the depthwise term on the input x."""

    def __init__(self, C, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(C, 3 * C, bias=False)
        self.lepe = nn.Conv2d(C, C, 5, padding=2, groups=C)
        self.proj = nn.Linear(C, C)

    def forward(self, x):
        N, H, W, C = x.shape
        m, d = self.heads, C // self.heads
        q, k, v = self.qkv(x).reshape(N, H * W, 3, m, d).permute(2, 0, 3, 1, 4)
        att = ((q @ k.transpose(-1, -2)) * d ** -0.5).softmax(-1)
        out = (att @ v).transpose(1, 2).reshape(N, H, W, C)
        out = out + self.lepe(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, C, attn, mlp_ratio):
        super().__init__()
        self.pos = nn.Conv2d(C, C, 3, padding=1, groups=C)
        self.norm1 = nn.LayerNorm(C, eps=1e-6)
        self.attn = attn
        self.norm2 = nn.LayerNorm(C, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(C, mlp_ratio * C), nn.GELU(), nn.Linear(mlp_ratio * C, C))

    def forward(self, x):
        x = x + self.pos(x)
        x = x.permute(0, 2, 3, 1)
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x.permute(0, 3, 1, 2)


class CBAM(nn.Module):
    def __init__(self, C, ratio=16, kernel=7):
        super().__init__()
        r = max(1, C // ratio)
        self.fc1 = nn.Conv2d(C, r, 1, bias=False)
        self.fc2 = nn.Conv2d(r, C, 1, bias=False)
        self.spatial = nn.Conv2d(2, 1, kernel, padding=kernel // 2, bias=False)

    def forward(self, u):
        def mlp(t):
            return self.fc2(F.relu(self.fc1(t)))
        a = torch.sigmoid(mlp(F.adaptive_avg_pool2d(u, 1)) + mlp(F.adaptive_max_pool2d(u, 1)))
        u = u * a
        m = torch.cat([u.mean(1, keepdim=True), u.amax(1, keepdim=True)], dim=1)
        return u * torch.sigmoid(self.spatial(m))


class ARM(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.shortcut = nn.Conv2d(C, C, 3, padding=1, bias=False)
        self.conv1 = nn.Conv2d(C, C, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(C)
        self.conv2 = nn.Conv2d(C, C, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm2d(C)
        self.cbam = CBAM(C)

    def forward(self, x):
        s = self.shortcut(x)
        u = F.relu(self.bn1(self.conv1(x)))
        u = self.cbam(self.bn2(self.conv2(u)))
        return F.relu(u + s)


class Stage(nn.Module):
    def __init__(self, cin, C, attn, mlp_ratio):
        super().__init__()
        self.embed = nn.Conv2d(cin, C, 4, stride=2, padding=1)
        self.block = Block(C, attn, mlp_ratio)
        self.arm = ARM(C)


class Head(nn.Module):
    def __init__(self, cin, mid, K):
        super().__init__()
        self.conv = nn.Conv2d(cin, mid, 3, padding=1)
        self.out = nn.Conv2d(mid, K, 1)

    def forward(self, x):
        return self.out(F.relu(self.conv(x)))


class HyattNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        W = cfg.widths
        stages = []
        for j in range(5):
            cin = 1 if j == 0 else W[j - 1]
            attn = (BRA(W[j], cfg.regions[j], cfg.topk[j], cfg.bra_heads[j], cfg.pool)
                    if j < 4 else GlobalAttention(W[j], cfg.s5_heads))
            stages.append(Stage(cin, W[j], attn, cfg.mlp_ratio[j]))
        self.stages = nn.ModuleList(stages)
        D, E, K = cfg.neck, cfg.img_width, cfg.landmarks
        self.lateral = nn.ModuleList(nn.Conv2d(W[j], D, 3, padding=1) for j in range(1, 5))
        self.smooth = nn.Conv2d(D, D, 3, padding=1)
        self.head1 = Head(D, D, K)
        self.up = nn.ConvTranspose2d(D, D, 4, stride=2, padding=1, bias=False)
        self.up_bn = nn.BatchNorm2d(D)
        self.head2 = Head(D, D, K)
        self.img = nn.Conv2d(1, E, 1, bias=False)
        self.img_bn = nn.BatchNorm2d(E)
        self.head3 = Head(D + E + K, cfg.mid_width, K)

    def forward(self, image, acts=None):
        """image: N x 1 x H x W. Returns (O1, O2, O3); fills acts (name -> tensor)
        with the activation at every block boundary when given a dict."""
        def keep(name, t):
            if acts is not None:
                acts[name] = t
            return t

        x, feats = image, []
        for j, st in enumerate(self.stages):
            x = keep(f"stage{j + 1}.embed", st.embed(x))
            x = keep(f"stage{j + 1}.block", st.block(x))
            x = keep(f"stage{j + 1}.arm", st.arm(x))
            feats.append(x)
        L = [keep(f"neck.lateral{j + 2}", lat(feats[j + 1])) for j, lat in enumerate(self.lateral)]
        for j in (3, 2, 1):  # L5 into L4, L4 into L3, L3 into L2
            L[j - 1] = L[j - 1] + F.interpolate(L[j], scale_factor=2, mode="nearest")
        P = keep("neck.P", self.smooth(L[0]))
        O1 = keep("head1.out", self.head1(P))
        G = keep("head2.G", F.relu(self.up_bn(self.up(P))))
        O2 = keep("head2.out", self.head2(G))
        I = keep("head3.I", F.relu(self.img_bn(self.img(image[:, :, ::2, ::2]))))
        Z = torch.cat([G, I, O2], dim=1)
        O3 = keep("head3.out", F.interpolate(self.head3(Z), scale_factor=2, mode="bilinear",
                                              align_corners=True))
        return O1, O2, O3


def init_like_the_code(net):
    """NETWORK.md §6: PyTorch defaults, except neck convs Xavier-uniform and
    head convs normal(0, 0.001), biases 0."""
    for m in list(net.lateral) + [net.smooth]:
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
    for h in (net.head1, net.head2, net.head3):
        for m in (h.conv, h.out):
            nn.init.normal_(m.weight, 0, 0.001)
            nn.init.zeros_(m.bias)


def gaussian_targets(points, K, h, w, sigma):
    """points: N x K x 2 in this map's pixels (centres at integers).
    A Gaussian at the unrounded centre, peak 1, zero where |dx| or |dy| > 3σ
    around the rounded centre (a (6σ+1)² patch)."""
    N = points.shape[0]
    ys = torch.arange(h, dtype=torch.float64)[:, None]
    xs = torch.arange(w, dtype=torch.float64)[None, :]
    T = torch.zeros(N, K, h, w, dtype=torch.float64)
    r = int(math.floor(3 * sigma))
    for n in range(N):
        for k in range(K):
            px, py = float(points[n, k, 0]), float(points[n, k, 1])
            g = torch.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * sigma ** 2))
            cx, cy = round(px), round(py)
            mask = ((xs - cx).abs() <= r) & ((ys - cy).abs() <= r)
            T[n, k] = g * mask
    return T.float()


def loss_fn(cfg, outs, targets, weights):
    """NETWORK.md §4: per head, mean over pixels and landmarks of (w·(O−T))²."""
    total = 0
    for O, T, lw in zip(outs, targets, cfg.loss_weights):
        total = total + lw * ((weights[:, :, None, None] * (O - T)) ** 2).mean()
    return total


def config_meta(cfg):
    j = lambda t: ",".join(str(v) for v in t)
    return {
        "config": cfg.name, "input_h": cfg.in_h, "input_w": cfg.in_w,
        "widths": j(cfg.widths), "bra_heads": j(cfg.bra_heads), "regions": j(cfg.regions),
        "topk": j(cfg.topk), "mlp_ratio": j(cfg.mlp_ratio), "s5_heads": cfg.s5_heads,
        "neck": cfg.neck, "img_width": cfg.img_width, "mid_width": cfg.mid_width,
        "landmarks": cfg.landmarks, "pool": cfg.pool, "sigmas": j(cfg.sigmas),
        "loss_weights": j(cfg.loss_weights),
    }
