"""PyTorch peer of bench/bwdam_phi.c: one BW-DAM Φ step with full covariances, float64,
batched over (query, memory) pairs with torch.linalg.eigh. Same data formula as the C side
and the same timing (phi_time there; a step takes seconds, so not peer_common's 3 warm-ups
+ at least 5 calls): one warm-up call, which is the measurement when it took at least
--seconds, else floor(seconds / its time) timed calls. The last call's output is checked.
Prints one JSON line: ms_<case>, best_<case>, reps_<case>, sum0_<case> .. sum3_<case>
(sums of m' and O', sums of their squares)."""
import time

import peer_common as pc

D, M = 10, 1000
CASES = {"phi75": 75, "phi750": 750}


def make(torch, n, sm, sw):
    m = torch.from_numpy(pc.values((n, D), sm)).double() * 4 - 2
    W = torch.from_numpy(pc.values((n, D, D), sw)).double() - 0.5
    S = W @ W.transpose(1, 2) + 0.01 * torch.eye(D, dtype=torch.float64)
    return m, S * (D / S.diagonal(dim1=1, dim2=2).sum(-1))[:, None, None]


def timed(fn, seconds):
    """(median seconds, calls timed, fastest), as phi_time in bwdam_phi.c."""
    t0 = time.perf_counter()
    fn()
    est = time.perf_counter() - t0
    if est >= seconds:
        return est, 1, est
    n = max(1, min(1000, int(seconds / est))) if est > 0 else 1000
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
    return med, n, ts[0]


def main():
    args = pc.parse_args(lambda ap: ap.add_argument("--only", default=""))
    only = set(args.only.split(",")) if args.only else None
    torch = pc.import_torch(args.threads)
    out = pc.info(torch, args.threads)
    Xm, XS = make(torch, M, 1, 2)
    trS = XS.diagonal(dim1=1, dim2=2).sum(-1)

    def roots(S, floor):
        w, V = torch.linalg.eigh(S)
        w = w.clamp_min(floor)
        return (V * w.sqrt()[..., None, :]) @ V.transpose(-1, -2), (V * w.rsqrt()[..., None, :]) @ V.transpose(-1, -2)

    def step(qm, qS, beta=1.0):
        Oh, Oi = roots(qS, 1e-10)
        C = Oh[:, None] @ XS[None] @ Oh[:, None]  # [Q, M, D, D]
        w, V = torch.linalg.eigh(0.5 * (C + C.transpose(-1, -2)))
        s = w.clamp_min(0).sqrt()
        D2 = (torch.cdist(qm, Xm) ** 2 + qS.diagonal(dim1=1, dim2=2).sum(-1)[:, None] + trS[None]
              - 2 * s.sum(-1)).clamp_min(0)
        Wt = torch.softmax(-beta * D2, 1)
        B = torch.einsum("qm,qmij->qij", Wt, (V * s[..., None, :]) @ V.transpose(-1, -2))
        B = 0.5 * (B + B.transpose(-1, -2))
        O2 = Oi @ B @ B @ Oi
        return Wt @ Xm, 0.5 * (O2 + O2.transpose(-1, -2))

    for name, Q in CASES.items():
        if only is not None and name not in only:
            continue
        qm, qS = make(torch, Q, 3, 4)
        res = {}

        def run():
            with torch.no_grad():
                res["out"] = step(qm, qS)

        med, n, best = timed(run, args.seconds)
        m2, O2 = res["out"]
        out.update({"ms_" + name: med * 1e3, "best_" + name: best * 1e3, "reps_" + name: n,
                    "sum0_" + name: float(m2.sum()), "sum1_" + name: float(O2.sum()),
                    "sum2_" + name: float((m2 * m2).sum()), "sum3_" + name: float((O2 * O2).sum())})
        del res["out"]
    pc.emit(out)


if __name__ == "__main__":
    main()
