"""PyTorch peer of bench/retrieval.c: the Hopfield retrieval step, 3 iterations, d = 784.

    mchn: q = torch.softmax(beta * q @ X.T, -1) @ X
    gmm:  q = torch.softmax((q @ X.T - 0.5 * (X * X).sum(1)) / sigma**2, -1) @ X

Variants as in retrieval.c: mchn/gmm with B=1000 queries x M=1000 memories (beta 8);
qs_mchn/qs_gmm with 50 blocks of B=10 x M=100 (beta 1), each block's result copied
out; mchn_check (beta 0.1, checksum only). Prints one JSON line: ms_<v> and best_<v>
(median and fastest, ms per iteration of one block), reps_<v>, sum_<v> (checksum).
"""
import peer_common as pc

D, ITERS = 784, 3
# name: (B, M, blocks, gmm, beta, sigma, timed)
VARIANTS = {
    "mchn": (1000, 1000, 1, False, 8.0, 1.0, True),
    "gmm": (1000, 1000, 1, True, 8.0, 1.0, True),
    "qs_mchn": (10, 100, 50, False, 1.0, 1.0, True),
    "qs_gmm": (10, 100, 50, True, 1.0, 1.0, True),
    "mchn_check": (1000, 1000, 1, False, 0.1, 1.0, False),
}


def make_data(B, M, blocks):
    import numpy as np
    x = pc.values((blocks * M, D), 1)
    nq = blocks * B
    j = np.arange(nq)
    rows = (j // B) * M + (7 * (j % B)) % M
    q0 = np.float32(0.5) * x[rows] + np.float32(0.5) * pc.values((nq, D), 2)  # float32, as in retrieval.c
    return x, np.ascontiguousarray(q0, dtype=np.float32)


def main():
    args = pc.parse_args(lambda ap: ap.add_argument("--only", default=""))
    only = set(args.only.split(",")) if args.only else None
    torch = pc.import_torch(args.threads)
    out = pc.info(torch, args.threads)
    for name, (B, M, blocks, gmm, beta, sigma, timed) in VARIANTS.items():
        if only is not None and name not in only:
            continue
        x_np, q_np = make_data(B, M, blocks)
        Xall, Qall = torch.from_numpy(x_np), torch.from_numpy(q_np)
        res = torch.empty(blocks * B, D)

        def run():
            with torch.no_grad():
                for b in range(blocks):
                    X = Xall[b * M:(b + 1) * M]
                    q = Qall[b * B:(b + 1) * B]
                    if gmm:
                        hn = 0.5 * (X * X).sum(1)
                        for _ in range(ITERS):
                            q = torch.softmax((q @ X.T - hn) / sigma**2, -1) @ X
                    else:
                        for _ in range(ITERS):
                            q = torch.softmax(beta * q @ X.T, -1) @ X
                    if blocks > 1:
                        res[b * B:(b + 1) * B] = q
                    else:
                        return q
            return res

        out["sum_" + name] = float(run().double().sum())
        if timed:
            t, reps, best = pc.median_time(run, args.seconds)
            out["ms_" + name] = t * 1e3 / (ITERS * blocks)
            out["best_" + name] = best * 1e3 / (ITERS * blocks)
            out["reps_" + name] = reps
    pc.emit(out)


if __name__ == "__main__":
    main()
