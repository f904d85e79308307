"""PyTorch peer of bench/bwdam_phi.c: one BW-DAM Φ step with full covariances, float64,
batched over (query, memory) pairs with torch.linalg.eigh. Same data formula and
methodology (peer_common). Prints one JSON line: ms_<case>, best_<case>, reps_<case>,
summ_<case> / sumc_<case> (sums of the new means and covariances)."""
import peer_common as pc

D, M = 10, 1000
CASES = {"phi75": 75, "phi750": 750}


def make(torch, n, sm, sw):
    m = torch.from_numpy(pc.values((n, D), sm)).double() * 4 - 2
    W = torch.from_numpy(pc.values((n, D, D), sw)).double() - 0.5
    S = W @ W.transpose(1, 2) + 0.01 * torch.eye(D, dtype=torch.float64)
    return m, S * (D / S.diagonal(dim1=1, dim2=2).sum(-1))[:, None, None]


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

        med, n, best = pc.median_time(run, args.seconds)
        m2, O2 = res["out"]
        out.update({"ms_" + name: med * 1e3, "best_" + name: best * 1e3, "reps_" + name: n,
                    "summ_" + name: float(m2.sum()), "sumc_" + name: float(O2.sum())})
    pc.emit(out)


if __name__ == "__main__":
    main()
