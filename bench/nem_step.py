"""PyTorch peer of bench/nem_step.c: one RNN-EM training step on static shapes
(Greff et al. 2017; engram's plugins/nem), batch 64, K = 3, T = 10, 250 units,
bitflip 0.1, loss eq. (5) on all steps with stop-gradient on gamma, Adam 1e-3.

This is the PyTorch port of the step that docs/models/nem.md used to carry in an
appendix: theta = 0 and psi = 0 at the start, gamma = |n| / sum_k |n|; per step
r = gamma (x~ - psi), theta = sigmoid(W [r, theta] + b) (one Glorot matrix on the
concatenation), psi = sigmoid(W_o theta + b_o), the E-step against the clean image,
and eq. (5) with BCE (psi clipped to [1e-6, 1 - 1e-6]) and the inter-cluster KL
-ln max(1 - psi, 1e-6).

Check: with the deterministic images and weights of the C side (from
peer_common.values) and the initial gamma and bit flips that the C side's first
updates draw from engram's Philox streams (recomputed here in numpy), the losses
of the first --check-steps Adam steps (loss0, loss1, ...). Timing: the step with
torch's own random gamma and noise, as a training run draws them. Prints one JSON
line.
"""
import math

import peer_common as pc

B, K, T, H, S = 64, 3, 10, 250, 28
D = S * S
NOISE_P, LR, EPS = 0.1, 1e-3, 1e-6
SQUARE = ["#######", "#######", "##...##", "##...##", "##...##", "#######", "#######"]
TRIANGLE = [".....##.....", "....####....", "...######...", "..###..###..", ".###....###.", "############",
            "############"]


def shapes(np):
    """B images of 3 shapes, the same formula as bench/nem_step.c: per object j of image i three values
    v = values(., 5) at 9 i + 3 j + {0, 1, 2} pick the template (floor 3 v) and the position
    (floor v (28 - w + 1), floor v (28 - h + 1)); the image is 1 where any shape covers."""
    tpl = [np.array([[c == "#" for c in r] for r in t], np.float32) for t in (SQUARE, TRIANGLE, TRIANGLE[::-1])]
    v = pc.values((B * 9,), 5).astype(np.float64)
    x = np.zeros((B, S, S), np.float32)
    for i in range(B):
        for j in range(3):
            a, b, c = v[9 * i + 3 * j: 9 * i + 3 * j + 3]
            t = tpl[int(math.floor(a * 3))]
            h, w = t.shape
            px, py = int(math.floor(b * (S - w + 1))), int(math.floor(c * (S - h + 1)))
            x[i, py:py + h, px:px + w] = np.maximum(x[i, py:py + h, px:px + w], t)
    return x.reshape(B, D)


def philox_words(np, seed, stream, offset, n):
    """Philox4x32-10 words r0..r3 of elements offset..offset+n-1 of (seed, stream), as engram/philox.h."""
    mask = np.uint64(0xFFFFFFFF)
    idx = np.arange(offset, offset + n, dtype=np.uint64)
    c0, c1 = idx & mask, idx >> np.uint64(32)
    c2 = np.full(n, stream & 0xFFFFFFFF, np.uint64)
    c3 = np.full(n, stream >> 32, np.uint64)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c0, np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & mask, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & mask
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return c0, c1, c2, c3


def u53(np, hi, lo):
    return ((hi >> np.uint64(5)).astype(np.float64) * 67108864.0 + (lo >> np.uint64(6)).astype(np.float64)) * 2.0**-53


def philox_normal(np, seed, stream, offset, n):
    """eg_rand_normal(0, 1) in float32 (engram's own log and cos agree with numpy's to ~1e-16)."""
    r0, r1, r2, r3 = philox_words(np, seed, stream, offset, n)
    u, u2 = u53(np, r0, r1), u53(np, r2, r3)
    return (np.sqrt(-2.0 * np.log(1.0 - u)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


def philox_bernoulli(np, seed, stream, offset, n, p):
    r0, r1, _, _ = philox_words(np, seed, stream, offset, n)
    return (u53(np, r0, r1) < p).astype(np.float32)


def main():
    def extra(ap):
        ap.add_argument("--check-steps", type=int, default=3)

    args = pc.parse_args(extra)
    torch = pc.import_torch(args.threads)
    import numpy as np

    rnn = torch.nn.Linear(D + H, H)
    out = torch.nn.Linear(H, D)
    # deterministic weights: (2 v - 1) sqrt(6 / (fan_in + fan_out)), W_x seed 20, W_h 21, W_o 22; zero biases
    lim_r = math.sqrt(6.0 / (D + H + H))
    lim_o = math.sqrt(6.0 / (H + D))
    w_x = (2.0 * pc.values((H, D), 20).astype(np.float64) - 1.0) * lim_r
    w_h = (2.0 * pc.values((H, H), 21).astype(np.float64) - 1.0) * lim_r
    w_o = (2.0 * pc.values((D, H), 22).astype(np.float64) - 1.0) * lim_o
    with torch.no_grad():
        rnn.weight.copy_(torch.from_numpy(np.concatenate([w_x, w_h], 1).astype(np.float32)))
        out.weight.copy_(torch.from_numpy(w_o.astype(np.float32)))
        rnn.bias.zero_()
        out.bias.zero_()
    opt = torch.optim.Adam(list(rnn.parameters()) + list(out.parameters()), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    x = torch.from_numpy(shapes(np))

    def unroll(gamma, noisy):
        theta = torch.zeros(B * K, H)
        psi = torch.zeros(B, K, D)
        y = x[:, None]
        loss = 0
        for t in range(T):
            xn = noisy(t)
            r = (gamma.detach() * (xn[:, None] - psi)).reshape(B * K, D)
            theta = torch.sigmoid(rnn(torch.cat([r, theta], 1)))
            psi = torch.sigmoid(out(theta)).reshape(B, K, D)
            p = y * psi + (1 - y) * (1 - psi) + EPS
            gamma = p / p.sum(1, keepdim=True)
            g = gamma.detach()
            pc_ = psi.clamp(EPS, 1 - EPS)
            nll = -(y * pc_.log() + (1 - y) * (1 - pc_).log())
            kl = -(1 - psi).clamp(min=EPS).log()
            loss = loss + ((g * nll).sum() + ((1 - g) * kl).sum()) / B
        return loss

    def train(gamma, noisy):
        opt.zero_grad(set_to_none=True)
        loss = unroll(gamma, noisy)
        loss.backward()
        opt.step()
        return loss

    # the check: the C side's first updates draw gamma and the bit flips from Philox streams (seed 1, streams
    # 11 and 12, offsets from 0); the same values here, so both run the same function on the same numbers
    gs = ns = 0
    res = pc.info(torch, args.threads)
    for i in range(args.check_steps):
        n = np.abs(philox_normal(np, 1, 11, gs, B * K * D)).reshape(B, K, D)
        flips = torch.from_numpy(philox_bernoulli(np, 1, 12, ns, T * B * D, NOISE_P).reshape(T, B, D))
        gs, ns = gs + B * K * D, ns + T * B * D
        nt = torch.from_numpy(n)
        res["loss%d" % i] = float(train(nt / nt.sum(1, keepdim=True), lambda t: x + flips[t] - 2 * x * flips[t]))

    def rand_noisy(t):
        f = (torch.rand(B, D) < NOISE_P).float()
        return x + f - 2 * x * f

    def step():
        nr = torch.randn(B, K, D).abs()
        return train(nr / nr.sum(1, keepdim=True), rand_noisy)

    t, reps, best = pc.median_time(step, args.seconds)
    res["ms"] = t * 1e3
    res["best"] = best * 1e3
    res["reps"] = reps
    pc.emit(res)


if __name__ == "__main__":
    main()
