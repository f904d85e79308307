"""PyTorch port of the vmfdam training epoch (peer of bench/vmfdam_epoch.c).

The algorithm of plugins/vmfdam (docs/models/vmfdam.md, reference/model-vmfdam.md),
written the way a PyTorch user would: autograd for the loss, the constrained SMD
step under no_grad.
  data     Fashion-MNIST train split, pixels/255, each item centred and put on the
           sphere (zero vectors stay zero); the first 90% are fitted, the last 10%
           validate (Keras validation_split)
  model    out_y = ln(sum_mu g_{mu y} e^{h_mu} + g_{P y}), h = ς beta x.w - tau(beta)
           (tau exact: ln 0F1(; N/2; beta^2/4)), evaluated with c = max(max h, 0)
  loss     -mean sum_y T_y out_y, T = (1 - s) onehot + s/(C+1) over C+1 columns
  SMD      v <- mu v - lr grad~, theta <- theta + lr v (lr applied twice);
           w: tangent projection + renormalisation; g: (delta - p/p_h) projection,
           exponentiated update, row-max rescale, AltOneNorm Sinkhorn; beta plain
One epoch = reshuffle, one SMD step per minibatch of the fitted rows, then the
validation loss and accuracy. Initial weights come from the shared formula
value(i, seed) of bench/common.c, so both sides start from identical bits.

Prints one JSON line: seconds per epoch (median, best; wall and process CPU time),
and for the check epoch (a fixed permutation shared with the C side) the losses of
the first batches and the epoch's loss, validation loss, accuracy, beta, mean
|w - w0|^2 and sum g^2. With --interactive (how bench-vmfdam_epoch runs it) the check
line comes first, then one {"t", "cpu"} line per "epoch" line read from stdin, then
the summary line when stdin ends.
"""
import gzip
import math
import os
import sys
import time

import peer_common as pc


def load_idx(path, split):
    import numpy as np
    stem = "train" if split == "train" else "t10k"

    def read(name):
        for cand in (os.path.join(path, name), os.path.join(path, name + ".gz")):
            if os.path.exists(cand):
                with (gzip.open(cand, "rb") if cand.endswith(".gz") else open(cand, "rb")) as f:
                    return f.read()
        pc.fail("missing %s in %s" % (name, path))

    img = read(stem + "-images-idx3-ubyte")
    lab = read(stem + "-labels-idx1-ubyte")
    n = int.from_bytes(img[4:8], "big")
    x = np.frombuffer(img, dtype=np.uint8, offset=16, count=n * 784).reshape(n, 784)
    y = np.frombuffer(lab, dtype=np.uint8, offset=8, count=n).astype(np.int64)
    return (x.astype(np.float32) / np.float32(255.0)), y


def to_sphere(x):
    """per item: minus its mean, divided by its L2 norm (in double, like the plugin)"""
    import numpy as np
    d = x.astype(np.float64)
    d = d - d.mean(axis=1, keepdims=True)
    ss = (d * d).sum(axis=1, keepdims=True)
    inv = np.where(ss > 1e-24 * d.shape[1], 1.0 / np.sqrt(np.maximum(ss, 1e-300)), 0.0)
    return (d * inv).astype(np.float32)


def tau_exact(n, beta):
    """ln 0F1(; N/2; beta^2/4) and its derivative A_N(beta) (the plugin's series)."""
    nu = 0.5 * n - 1.0
    b, z = nu + 1.0, 0.25 * beta * beta
    head, tail, ktail, t, lscale, k = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    while True:
        t *= z / ((b + k) * (k + 1.0))
        tail += t
        ktail += (k + 1.0) * t
        if tail > 1e280:
            head, tail, ktail, t = head * 1e-280, tail * 1e-280, ktail * 1e-280, t * 1e-280
            lscale += 644.7238260383328
        rn = z / ((b + k + 1.0) * (k + 2.0))
        if rn < 0.5 and t * rn / (1.0 - rn) <= 1e-17 * tail:
            break
        k += 1.0
    s = head + tail
    tau = math.log1p(tail) if lscale == 0.0 else lscale + math.log(s)
    return tau, (2.0 / beta) * ktail / s


def main():
    def extra(ap):
        ap.add_argument("--hidden", type=int, default=1000)
        ap.add_argument("--batch", type=int, default=1000)
        ap.add_argument("--beta", type=float, default=1.0)
        ap.add_argument("--varsigma", type=float, default=0.25)
        ap.add_argument("--softening", type=float, default=0.1)
        ap.add_argument("--lr", type=float, default=0.1)
        ap.add_argument("--momentum", type=float, default=0.99)
        ap.add_argument("--sinkhorn", type=int, default=10)
        ap.add_argument("--val-fraction", type=float, default=0.1)
        ap.add_argument("--limit", type=int, default=0)
        ap.add_argument("--reps", type=int, default=3)
        ap.add_argument("--check-batches", type=int, default=5)
        ap.add_argument("--perm-mult", type=int, default=7919)
        ap.add_argument("--w-seed", type=int, default=21)
        ap.add_argument("--path", default="/usr/share/datasets/fashion-mnist")
        ap.add_argument("--interactive", action="store_true",
                        help="after the check epoch, time one epoch per 'epoch' line read from stdin")
    a = pc.parse_args(extra)
    torch = pc.import_torch(a.threads)
    import numpy as np

    x_all, y_all = load_idx(a.path, "train")
    if a.limit > 0:
        x_all, y_all = x_all[:a.limit], y_all[:a.limit]
    n = x_all.shape[0]
    N, C = x_all.shape[1], 10
    K, P, B = C + 1, a.hidden, a.batch
    n_fit = int(n * (1.0 - a.val_fraction))
    X = torch.from_numpy(to_sphere(x_all))
    Y = torch.from_numpy(y_all)
    s = a.softening
    T = torch.full((n, K), s / K, dtype=torch.float64)
    T[torch.arange(n), Y] += 1.0 - s
    T = T.float()
    counts = np.bincount(y_all[:n_fit], minlength=C).astype(np.float64)
    pq = np.append((1.0 - s) * counts / counts.sum(), 0.0) + s / K

    # initial state: w rows from value(i, w_seed) - 0.5, normalised in double
    w0 = pc.values((P, N), a.w_seed).astype(np.float64) - 0.5
    w0 /= np.sqrt((w0 * w0).sum(axis=1, keepdims=True))
    g0 = np.tile(pq, (P + 1, 1))
    g0[P] *= P / (P + 1.0)  # null row P/(P_max+1) p_q, P_max = P
    Gh = np.ones(P + 1)
    Gh[P] = 1.0  # G_null = P/P_max
    rows = torch.tensor(Gh, dtype=torch.float32).reshape(P + 1, 1)
    cols = torch.tensor((P + Gh[P]) * pq, dtype=torch.float32).reshape(1, K)
    lr, mu, vs = a.lr, a.momentum, a.varsigma

    st = {}

    def reset():
        st["w"] = torch.tensor(w0, dtype=torch.float32).requires_grad_(True)
        st["g"] = torch.tensor(g0, dtype=torch.float32).requires_grad_(True)
        st["beta"] = torch.tensor([a.beta], dtype=torch.float32).requires_grad_(True)
        st["vw"] = torch.zeros(P, N)
        st["vg"] = torch.zeros(P + 1, K)
        st["vb"] = torch.zeros(1)

    def forward(x):
        w, g, beta = st["w"], st["g"], st["beta"]
        b0 = float(beta.item())
        tau, dtau = tau_exact(N, b0)
        tau_t = tau + dtau * (beta - beta.detach())  # value tau(b0), gradient tau'(b0)
        h = (x @ w.t()) * (vs * beta) - tau_t
        c = torch.clamp(h.max(dim=1, keepdim=True).values, min=0.0).detach()
        e = torch.exp(h - c)
        S = e @ g[:P] + torch.exp(-c) * g[P:P + 1]
        return torch.log(S) + c

    def sinkhorn(g):
        for _ in range(a.sinkhorn):
            r = g.sum(dim=1, keepdim=True)
            flag = bool((torch.abs(r / rows - 1.0) > 1e-6).any() or torch.isnan(r).any())
            g.mul_(rows / r)
            g.mul_(cols / g.sum(dim=0, keepdim=True))
            if not flag:
                break

    def smd():
        w, g, beta = st["w"], st["g"], st["beta"]
        with torch.no_grad():
            gw = w.grad
            tg = gw - (w * gw).sum(dim=1, keepdim=True) * w
            st["vw"].mul_(mu).sub_(lr * tg)
            w.add_(lr * st["vw"])
            w.div_(torch.sqrt(torch.clamp((w * w).sum(dim=1, keepdim=True), min=1e-30)))
            gg = g.grad
            tg = gg - (g * gg).sum(dim=1, keepdim=True) / rows
            st["vg"].mul_(mu).sub_(lr * tg)
            lg = torch.log(g) + lr * st["vg"]
            g.copy_(torch.exp(lg - lg.max(dim=1, keepdim=True).values))
            sinkhorn(g)
            st["vb"].mul_(mu).sub_(lr * beta.grad)
            beta.add_(lr * st["vb"])
        w.grad = None
        g.grad = None
        beta.grad = None

    def epoch(perm, record=None):
        lsum, correct = 0.0, 0
        for start in range(0, n_fit, B):
            idx = perm[start:start + B]
            x, t = X[idx], T[idx]
            out = forward(x)
            loss = -(t * out).sum() / x.shape[0]
            loss.backward()
            smd()
            lv = float(loss.item())
            if record is not None and len(record) < a.check_batches:
                record.append(lv)
            lsum += lv * x.shape[0]
            correct += int((out.detach().argmax(dim=1) == Y[idx]).sum())
        vsum, vcor = 0.0, 0
        with torch.no_grad():
            for start in range(n_fit, n, B):
                x, t = X[start:start + B], T[start:start + B]
                out = forward(x)
                vsum += float(-(t * out).sum())
                vcor += int((out.argmax(dim=1) == Y[start:start + B]).sum())
        nv = max(n - n_fit, 1)
        return lsum / n_fit, correct / n_fit, vsum / nv, vcor / nv

    # check epoch: fixed permutation (i * mult + 13) mod n_fit, identical on both sides
    reset()
    fixed = torch.tensor([(i * a.perm_mult + 13) % n_fit for i in range(n_fit)], dtype=torch.int64)
    rec = []
    t0 = time.perf_counter()
    loss, acc, vloss, vacc = epoch(fixed, rec)
    first = time.perf_counter() - t0
    w0t = torch.tensor(w0, dtype=torch.float64)
    wn = st["w"].detach().double()
    wn = wn / torch.sqrt((wn * wn).sum(dim=1, keepdim=True))
    wdisp = float(((wn - w0t) ** 2).sum(dim=1).mean())  # mean |w/|w| - w0|^2
    res = {"loss": loss, "acc": acc, "val_loss": vloss, "val_acc": vacc, "beta": float(st["beta"].item()),
           "wdisp": wdisp, "gsq": float((st["g"].detach().double() ** 2).sum()), "first_epoch": first}
    for i, lv in enumerate(rec):
        res["loss%d" % i] = lv
    # timed epochs: the model keeps training, each epoch reshuffled (torch.randperm)
    gen = torch.Generator().manual_seed(0)

    def timed():
        t0, c0 = time.perf_counter(), time.process_time()
        epoch(torch.randperm(n_fit, generator=gen))
        return time.perf_counter() - t0, time.process_time() - c0

    ts, cs = [], []
    if a.interactive:
        # paired with the C side: the check results first, then one epoch per "epoch" line on
        # stdin (so engram's and torch's epochs alternate and see the same machine load)
        pc.emit(res)
        for line in sys.stdin:
            if line.strip() != "epoch":
                break
            t, c = timed()
            ts.append(t), cs.append(c)
            pc.emit({"t": t, "cpu": c})
    else:
        for _ in range(max(a.reps, 1)):
            t, c = timed()
            ts.append(t), cs.append(c)
    res.update({"s": pc_median(ts), "best": min(ts) if ts else float("nan"), "cpu": pc_median(cs), "reps": len(ts),
                "beta_end": float(st["beta"].item())})
    res.update(pc.info(torch, a.threads))
    pc.emit(res)


def pc_median(v):
    v = sorted(v)
    m = len(v)
    if m == 0:
        return float("nan")
    return v[m // 2] if m % 2 else 0.5 * (v[m // 2 - 1] + v[m // 2])

if __name__ == "__main__":
    main()
