# bench/compvae_sines_peer.py — standalone PyTorch port of the CPU-scale CompVAE sines training step
# (issue 8 item 9; not yet wired into bench/run.sh): W 32, Z 16, H 128, 2 GraphBlocks, channels 8/16/32,
# batch 64 in 4 sub-batches. Usage: python3 bench/compvae_sines_peer.py THREADS UPDATES -> s/update.
import math, sys, time
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
W, Z, H, C1, C2, C3 = 32, 16, 128, 8, 16, 32
SMIN = 1e-3
c = 2 * math.log(SMIN)
def floor(u): return F.elu(u - c - 1) + 1 + c
class Res(nn.Module):
    def __init__(s, n): super().__init__(); s.a = nn.Linear(n, n); s.b = nn.Linear(n, n)
    def forward(s, x): return x + s.b(F.elu(s.a(x)))
class GB(nn.Module):
    def __init__(s, i, o):
        super().__init__(); s.g1, s.g2, s.g3 = Res(i), Res(i), Res(i); s.l1 = nn.Linear(2 * i, i + o); s.f2 = Res(i + o); s.l3 = nn.Linear(i + o, o)
    def forward(s, h):
        e = F.elu(s.g1(h)); m = e.sum(1, keepdim=True) - e; m = s.g3(torch.tanh(s.g2(m)))
        return s.l3(F.elu(s.f2(F.elu(s.l1(torch.cat([h, m], 2))))))
class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.enc = nn.ModuleList([nn.Conv1d(1, C1, 10, 5), nn.Conv1d(C1, C1, 7, padding=3), nn.Conv1d(C1, C2, 6, 3), nn.Conv1d(C2, C2, 7, padding=3), nn.Conv1d(C2, C3, 4, 2)])
        s.er = Res(5 * C3); s.qz = nn.Linear(5 * C3, H); s.qr1, s.qr2 = Res(H), Res(H); s.qzm, s.qzl = nn.Linear(H, Z), nn.Linear(H, Z)
        s.qe = nn.Embedding(10, W); s.gb = nn.ModuleList([GB(W + 5 * C3 + Z, H), GB(H, H)]); s.qm, s.ql, s.qr = nn.Linear(H, W), nn.Linear(H, W), nn.Linear(H, W)
        s.pm, s.pl = nn.Embedding(10, W), nn.Embedding(10, W); s.pz = nn.Linear(W, H); s.pzm, s.pzl = nn.Linear(H, Z), nn.Linear(H, Z)
        s.px = nn.Linear(W + Z, 5 * C3); s.pr = nn.ModuleList([Res(5 * C3) for _ in range(3)])
        s.dec = nn.ModuleList([nn.ConvTranspose1d(C3, C2, 4, 2), nn.Conv1d(C2, C2, 7, padding=3), nn.ConvTranspose1d(C2, C1, 8, 4), nn.Conv1d(C1, C1, 7, padding=3), nn.ConvTranspose1d(C1, C1 // 2, 15, 5)])
        s.xm, s.xl = nn.Conv1d(C1 // 2, 1, 7, padding=3), nn.Conv1d(C1 // 2, 1, 7, padding=3)
    def forward(s, x, f):
        B, K = f.shape
        h = x[:, None]
        for l in s.enc: h = F.elu(l(h))
        hx = F.elu(s.er(h.flatten(1)))
        h = F.elu(s.qz(hx)); h = F.elu(s.qr1(h)); h = F.elu(s.qr2(h)); mz, lz = s.qzm(h), s.qzl(h)
        z = mz + torch.exp(0.5 * lz) * torch.randn_like(mz)
        e = s.qe(f - 1) + torch.randn(B, K, W)
        h = torch.cat([e, hx[:, None].expand(B, K, -1), z[:, None].expand(B, K, -1)], 2)
        for g in s.gb: h = F.elu(g(h))
        mq, lq, r = s.qm(h), s.ql(h), s.qr(h)
        ls = torch.log_softmax(torch.cat([r, torch.zeros(B, 1, W)], 1), 1); rho = ls[:, :K].exp(); rest = ls[:, K]
        eps = torch.randn(B, K, W); w = (mq + torch.exp(0.5 * lq) * (eps - rho * eps.sum(1, keepdim=True))).sum(1)
        mp, lp = s.pm(f - 1), floor(s.pl(f - 1))
        lw = 0.5 * ((lp - lq + (mq - mp) ** 2 / lp.exp() + (1 - 2 * rho + K * rho ** 2) * lq.exp() / lp.exp() - 1).sum((1, 2)) - 2 * rest.sum(1))
        h = F.elu(s.pz(w)); mpz, lpz = s.pzm(h), floor(s.pzl(h))
        lzz = 0.5 * ((z - mpz) ** 2 / lpz.exp() + lpz - lz - 1).sum(1)
        h = F.elu(s.px(torch.cat([w, z], 1)))
        for l in s.pr: h = F.elu(l(h))
        h = h.view(B, C3, 5)
        for l in s.dec: h = F.elu(l(h))
        mx, lx = s.xm(h)[:, 0, 35:235], floor(s.xl(h)[:, 0, 35:235])
        lxx = 0.5 * ((x - mx) ** 2 / lx.exp() + lx - c).sum(1)
        return lw.mean(), lzz.mean(), lxx.mean()
def gen(B, K, rng):
    f = rng.integers(1, 10, (B, K)); a = rng.normal(1, 0.3, (B, K)); p = rng.normal(0, 0.8, (B, K)); t = np.arange(200) / 100
    S = (a[..., None] * np.cos(2 * np.pi * f[..., None] * t + p[..., None])).sum(1)
    return torch.tensor(K * np.tanh(3 * S / K), dtype=torch.float32), torch.tensor(f)
m = M(); opt = torch.optim.Adamax(m.parameters(), lr=1e-3, betas=(0.5, 0.9)); rng = np.random.default_rng(0)
def step():
    L = 0
    for _ in range(4):
        x, f = gen(16, int(rng.integers(1, 5)), rng); lw, lz, lx = m(x, f); L = L + (lw + lz + lx) / 4
    opt.zero_grad(); L.backward(); opt.step(); return float(L)
for _ in range(5): step()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
t0 = time.perf_counter(); c0 = time.process_time()
for _ in range(n): step()
print("torch: %.4f s/update wall, %.4f s/update cpu (%d updates, %d threads)" % ((time.perf_counter() - t0) / n, (time.process_time() - c0) / n, n, torch.get_num_threads()))
