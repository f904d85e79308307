"""PyTorch peer of bench/retrieval.c: the Hopfield retrieval step, B=1000, d=784, M=1000, 3 iterations.

    mchn: q = torch.softmax(beta * q @ X.T, -1) @ X
    gmm:  q = torch.softmax((q @ X.T - 0.5 * (X * X).sum(1)) / sigma**2, -1) @ X

Prints one JSON line: ms_<variant> and best_<variant> (median and fastest, per iteration),
reps_<variant>, sum_<variant> (checksum), and sum_mchn_check (mchn at --check-beta).
"""
import peer_common as pc

B, D, M, ITERS = 1000, 784, 1000, 3


def main():
    def extra(ap):
        ap.add_argument("--beta", type=float, default=8.0)
        ap.add_argument("--sigma", type=float, default=1.0)
        ap.add_argument("--check-beta", type=float, default=0.1)

    args = pc.parse_args(extra)
    torch = pc.import_torch(args.threads)
    import numpy as np

    x_np = pc.values((M, D), 1)
    q0_np = 0.5 * x_np[(7 * np.arange(B)) % M] + 0.5 * pc.values((B, D), 2)  # float32, as in retrieval.c
    X = torch.from_numpy(x_np)
    q0 = torch.from_numpy(np.ascontiguousarray(q0_np, dtype=np.float32))
    beta, sigma = args.beta, args.sigma

    def mchn(beta=beta):
        with torch.no_grad():
            q = q0
            for _ in range(ITERS):
                q = torch.softmax(beta * q @ X.T, -1) @ X
            return q

    def gmm():
        with torch.no_grad():
            hn = -0.5 * (X * X).sum(1)
            q = q0
            for _ in range(ITERS):
                q = torch.softmax((q @ X.T + hn) / sigma**2, -1) @ X
            return q

    out = pc.info(torch, args.threads)
    for name, fn in (("mchn", mchn), ("gmm", gmm)):
        t, reps, best = pc.median_time(fn, args.seconds)
        out["ms_" + name] = t * 1e3 / ITERS
        out["best_" + name] = best * 1e3 / ITERS
        out["reps_" + name] = reps
        out["sum_" + name] = float(fn().double().sum())
    out["sum_mchn_check"] = float(mchn(args.check_beta).double().sum())
    pc.emit(out)


if __name__ == "__main__":
    main()
