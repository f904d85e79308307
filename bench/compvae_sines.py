"""PyTorch peer of bench/compvae_sines.c: one CompVAE training update on the sines problem at the
CPU scale of configs/paper/compvae-sines-cpu.yaml (W 32, Z 16, hidden 128, 2 GraphBlocks, channels
8/16/32, batch 64 in 4 sub-batches of 16 wholes with K = 1, 2, 3, 4, Adamax (0.5, 0.9)), a port of
plugins/compvae (models-nem-compvae.md section 2). Module names mirror the plugin's parameter names
(enc.0.weight, qw.gb0.g1.l1.weight, ...), so both sides can start from the same weights.

Timed: the whole update as the plugin trains -- fresh sines wholes for each sub-batch (numpy), the
reparametrised forward pass, one backward pass on L_w + L_z + L_x averaged over sub-batches, Adamax.
Check: with the shared weights (bench_init), the shared deterministic sub-batches and noise of
bench/compvae_sines.c, the three losses of each sub-batch, the objective, and the objective again
after one Adamax update (lr 1e-3).

Prints one JSON line: ms, best, reps, nparams, numel, lw<j>, lz<j>, lx<j> (sub-batch j, K = j + 1),
loss0 (the objective), loss1 (after one update).
"""
import math

import peer_common as pc

W, Z, H, C1, C2, C3 = 32, 16, 128, 8, 16, 32
C0, FLAT, LEN, SUB, KS = C1 // 2, 5 * C3, 200, 16, (1, 2, 3, 4)
SIGMA_MIN = 1e-3
LR, BETAS = 1e-3, (0.5, 0.9)


def fnv1a(name):
    """32-bit FNV-1a hash of a parameter name (the per-parameter seed of bench_init)."""
    h = 2166136261
    for ch in name.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def gauss(shape, seed):
    """Box-Muller of two value() streams: sqrt(-2 ln(1 - v(i, s))) cos(2 pi v(i, s + 1000))."""
    import numpy as np
    u1 = pc.values(shape, seed).astype(np.float64)
    u2 = pc.values(shape, seed + 1000).astype(np.float64)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * math.pi * u2)


def check_batch(j):
    """Sub-batch j (K = j + 1) of the check: f = 1 + floor(9 v), a = 1 + 0.3 g, phi = 0.8 g."""
    import numpy as np
    K = KS[j]
    f = np.minimum(1 + np.floor(9.0 * pc.values((SUB, K), 20 + j).astype(np.float64)), 9).astype(np.int64)
    a = 1.0 + 0.3 * gauss((SUB, K), 30 + j)
    p = 0.8 * gauss((SUB, K), 40 + j)
    return sines(f, a, p, K)


def sines(f, a, p, K):
    import numpy as np
    t = np.arange(LEN, dtype=np.float64) / 100.0
    S = (a[..., None] * np.cos(2.0 * math.pi * f[..., None] * t + p[..., None])).sum(1)
    return (K * np.tanh(3.0 * S / K)).astype(np.float32), f


def main():
    args = pc.parse_args()
    torch = pc.import_torch(args.threads)
    import numpy as np
    from torch import nn
    import torch.nn.functional as F

    c = 2.0 * math.log(SIGMA_MIN)

    def floor(u):  # soft variance floor f(u) = elu(u - c - 1) + 1 + c
        return F.elu(u - c - 1.0) + 1.0 + c

    class Res(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.l1, self.l2 = nn.Linear(n, n), nn.Linear(n, n)

        def forward(self, x):
            return x + self.l2(F.elu(self.l1(x)))

    class GraphBlock(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.g1, self.g2, self.g3 = Res(i), Res(i), Res(i)
            self.l1, self.f2, self.l3 = nn.Linear(2 * i, i + o), Res(i + o), nn.Linear(i + o, o)

        def forward(self, h):
            e = F.elu(self.g1(h))
            m = e.sum(1, keepdim=True) - e  # m_i = sum_{j != i} e_j
            m = self.g3(torch.tanh(self.g2(m)))
            return self.l3(F.elu(self.f2(F.elu(self.l1(torch.cat([h, m], 2))))))

    D = nn.ModuleDict
    net = D({
        "enc": D({"0": nn.Conv1d(1, C1, 10, 5), "1": nn.Conv1d(C1, C1, 7, padding=3), "2": nn.Conv1d(C1, C2, 6, 3),
                  "3": nn.Conv1d(C2, C2, 7, padding=3), "4": nn.Conv1d(C2, C3, 4, 2), "res": Res(FLAT)}),
        "qz": D({"in": nn.Linear(FLAT, H), "r1": Res(H), "r2": Res(H), "mu": nn.Linear(H, Z), "lv": nn.Linear(H, Z)}),
        "qw": D({"emb": nn.Embedding(10, W), "gb0": GraphBlock(W + FLAT + Z, H), "gb1": GraphBlock(H, H),
                 "mu": nn.Linear(H, W), "lv": nn.Linear(H, W), "rho": nn.Linear(H, W)}),
        "pw": D({"mu": nn.Embedding(10, W), "lv": nn.Embedding(10, W)}),
        "pz": D({"in": nn.Linear(W, H), "mu": nn.Linear(H, Z), "lv": nn.Linear(H, Z)}),
        "px": D({"in": nn.Linear(W + Z, FLAT), "r0": Res(FLAT), "r1": Res(FLAT), "r2": Res(FLAT),
                 "mu": nn.Conv1d(C0, 1, 7, padding=3), "lv": nn.Conv1d(C0, 1, 7, padding=3)}),
        "dec": D({"0": nn.ConvTranspose1d(C3, C2, 4, 2), "1": nn.Conv1d(C2, C2, 7, padding=3),
                  "2": nn.ConvTranspose1d(C2, C1, 8, 4), "3": nn.Conv1d(C1, C1, 7, padding=3),
                  "4": nn.ConvTranspose1d(C1, C0, 15, 5)}),
    })
    # bench_init: value(i, fnv1a(name)) scaled to +-1/sqrt(numel / shape[0]) (2-d and more), +-0.1 (biases)
    with torch.no_grad():
        for name, p in net.named_parameters():
            shape = tuple(p.shape)
            b = 1.0 / math.sqrt(p.numel() / shape[0]) if len(shape) >= 2 else 0.1
            v = (2.0 * pc.values(shape, fnv1a(name)).astype(np.float64) - 1.0) * b
            p.copy_(torch.from_numpy(v.astype(np.float32)))

    def losses(x, f, noise=None):
        """Per-sample L_w, L_z, L_x (nats) of a sub-batch; noise (z, label, w) or None to draw it."""
        B, K = f.shape
        h = x[:, None]
        for i in range(5):
            h = F.elu(net["enc"][str(i)](h))
        hx = F.elu(net["enc"]["res"](h.flatten(1)))
        qz = net["qz"]
        h = F.elu(qz["r2"](F.elu(qz["r1"](F.elu(qz["in"](hx))))))
        mz, lz = qz["mu"](h), qz["lv"](h)
        nz, nl, nw = noise if noise else (torch.randn(B, Z), torch.randn(B, K, W), torch.randn(B, K, W))
        z = mz + torch.exp(0.5 * lz) * nz
        qw = net["qw"]
        e = qw["emb"](f - 1) + nl
        h = torch.cat([e, hx[:, None].expand(B, K, FLAT), z[:, None].expand(B, K, Z)], 2)
        h = F.elu(qw["gb1"](F.elu(qw["gb0"](h))))
        mq, lq, r = qw["mu"](h), qw["lv"](h), qw["rho"](h)
        # rho: a fixed zero logit appended along K, log-softmax over the K + 1 entries
        ls = torch.log_softmax(torch.cat([r, torch.zeros(B, 1, W)], 1), 1)
        rho, rest = ls[:, :K].exp(), ls[:, K]
        w = (mq + torch.exp(0.5 * lq) * (nw - rho * nw.sum(1, keepdim=True))).sum(1)
        mp, lp = net["pw"]["mu"](f - 1), floor(net["pw"]["lv"](f - 1))
        lw = 0.5 * ((lp - lq + (mq - mp) ** 2 / lp.exp() + (1 - 2 * rho + K * rho ** 2) * lq.exp() / lp.exp()
                     - 1).sum((1, 2)) - 2 * rest.sum(1))
        pz = net["pz"]
        h = F.elu(pz["in"](w))
        mpz, lpz = pz["mu"](h), floor(pz["lv"](h))
        lzz = 0.5 * ((z - mpz) ** 2 / lpz.exp() + lpz - lz - 1).sum(1)
        px = net["px"]
        h = F.elu(px["in"](torch.cat([w, z], 1)))
        for i in range(3):
            h = F.elu(px["r%d" % i](h))
        h = h.view(B, C3, 5)
        for i in range(5):
            h = F.elu(net["dec"][str(i)](h))
        mx, lx = px["mu"](h)[:, 0, 35:235], floor(px["lv"](h)[:, 0, 35:235])
        lxx = 0.5 * ((x - mx) ** 2 / lx.exp() + lx - c).sum(1)
        return lw, lzz, lxx

    opt = torch.optim.Adamax(net.parameters(), lr=LR, betas=BETAS, eps=1e-8)

    def update(batches, noises=None):
        parts = [0.0, 0.0, 0.0]
        for j, (x, f) in enumerate(batches):
            L = losses(x, f, noises[j] if noises else None)
            for k in range(3):
                parts[k] = parts[k] + L[k].mean()
        loss = (parts[0] + parts[1] + parts[2]) / len(batches)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    out = pc.info(torch, args.threads)
    out["nparams"] = len(list(net.parameters()))
    out["numel"] = sum(p.numel() for p in net.parameters())

    # check: shared sub-batches and noise, losses before and after one update
    cb, cn = [], []
    for j, K in enumerate(KS):
        x, f = check_batch(j)
        cb.append((torch.from_numpy(x), torch.from_numpy(f)))
        cn.append(tuple(torch.from_numpy(gauss(s, seed).astype(np.float32))
                        for s, seed in (((SUB, Z), 50 + j), ((SUB, K, W), 60 + j), ((SUB, K, W), 70 + j))))
    with torch.no_grad():
        for j in range(len(KS)):
            lw, lz, lx = losses(cb[j][0], cb[j][1], cn[j])
            out["lw%d" % j], out["lz%d" % j], out["lx%d" % j] = float(lw.mean()), float(lz.mean()), float(lx.mean())
    out["loss0"] = update(cb, cn)
    out["loss1"] = update(cb, cn)

    # timed: online data, fresh noise, K = 1..4
    rng = np.random.default_rng(0)

    def step():
        batches = []
        for K in KS:
            f = rng.integers(1, 10, (SUB, K))
            x, f = sines(f, rng.normal(1.0, 0.3, (SUB, K)), rng.normal(0.0, 0.8, (SUB, K)), K)
            batches.append((torch.from_numpy(x), torch.from_numpy(f)))
        return update(batches)

    t, reps, best = pc.median_time(step, args.seconds)
    out["ms"], out["best"], out["reps"] = t * 1e3, best * 1e3, reps
    pc.emit(out)


if __name__ == "__main__":
    main()
