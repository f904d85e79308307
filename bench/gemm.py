"""PyTorch peer of bench/gemm.c: torch.mm GFLOP/s for shapes m x k x n.

Prints one JSON line: gflops_<m>x<k>x<n>, sum_<m>x<k>x<n> (checksum of C) per shape.
"""
import peer_common as pc


def main():
    args = pc.parse_args(lambda ap: ap.add_argument("--shapes", default="1024x1024x1024"))
    torch = pc.import_torch(args.threads)
    out = pc.info(torch, args.threads)
    with torch.no_grad():
        for spec in args.shapes.split(","):
            m, k, n = (int(v) for v in spec.split("x"))
            a = torch.from_numpy(pc.values((m, k), 1))
            b = torch.from_numpy(pc.values((k, n), 2))
            t, reps, best = pc.median_time(lambda: torch.mm(a, b), args.seconds)
            out["gflops_" + spec] = 2.0 * m * k * n / t * 1e-9
            out["best_" + spec] = 2.0 * m * k * n / best * 1e-9
            out["reps_" + spec] = reps
            out["sum_" + spec] = float(torch.mm(a, b).double().sum())
    pc.emit(out)


if __name__ == "__main__":
    main()
