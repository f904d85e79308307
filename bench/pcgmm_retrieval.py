"""PyTorch peer of bench/pcgmm_retrieval.c: PC-GMM retrieval (vae-gmm, vae-pc-gmm) on the
acceptance protocol, block by block as the paper's protocol and the authors' code do.

The C side writes one float32 file (--data): the MLP VAE's weights (enc.lin0, enc.lin1,
enc.head, dec.lin0, dec.lin1, dec.lin2: weight [out, in] then bias [out] each), the
blocks' clean items X [blocks*N, d], then their corrupted queries [blocks*Q, d]. Per block:

    Mz = mu(X_b); z = mu(q_b)                                   (encoder means)
    vae-gmm:    z <- softmax((z Mz^T - |m|^2/2) / sigma^2) Mz, up to `steps` updates, stopping
                once every query changed by less than 1e-6 (max abs), as the plugin does
    vae-pc-gmm: u0 = z, u1, u2 from a forward decoder pass, u3 = q (clamped); `steps` times:
                e_{l+1} = u_{l+1} - f_l(u_l) for every layer, then
                u_l += alpha (f_l'(u_l)^T e_{l+1} - e_l),  z += alpha (f_0'(z)^T e_1 - (z - softmax(..) Mz))
                (eq. 31-32; the Jacobian products written out, W^T (act' * e), as the authors' code)

With --group G > 1 the same loop also runs on groups of G blocks, as the plugin does: one
encoder / decoder pass over the group's rows, the prior's products batched over the blocks
(baddbmm / bmm on [G, N, L]), so block g's queries see only block g's codes.

Prints one JSON line: ms_<case> and best_<case> (median and fastest ms per pass over all
blocks, block by block), msg_<case> / bestg_<case> (grouped), reps_*; with --out, the final
codes are written there (float32; per case: block by block, then grouped) for the C side's
check.
"""
import peer_common as pc

CASES = ("vae-gmm", "vae-pc-gmm")


def main():
    def extra(ap):
        ap.add_argument("--data", required=True)
        ap.add_argument("--out", default="")
        ap.add_argument("--blocks", type=int, required=True)
        ap.add_argument("--memories", type=int, required=True)
        ap.add_argument("--queries", type=int, required=True)
        ap.add_argument("--dim", type=int, required=True)
        ap.add_argument("--hidden", type=int, required=True)
        ap.add_argument("--latent", type=int, required=True)
        ap.add_argument("--sigma", type=float, required=True)
        ap.add_argument("--alpha", type=float, required=True)
        ap.add_argument("--steps", type=int, required=True)
        ap.add_argument("--group", type=int, default=1)
        ap.add_argument("--only", default="")

    args = pc.parse_args(extra)
    torch = pc.import_torch(args.threads)
    import numpy as np
    F = torch.nn.functional
    out = pc.info(torch, args.threads)
    d, H, L = args.dim, args.hidden, args.latent
    nb, N, Q = args.blocks, args.memories, args.queries
    shapes = [(H, d), (H,), (H, H), (H,), (2 * L, H), (2 * L,),
              (H, L), (H,), (H, H), (H,), (d, H), (d,)]
    raw = np.fromfile(args.data, dtype=np.float32)
    want = sum(int(np.prod(s)) for s in shapes) + (nb * N + nb * Q) * d
    if raw.size != want:
        pc.fail("%s holds %d floats, expected %d" % (args.data, raw.size, want))
    ts, off = [], 0
    for s in shapes:
        n = int(np.prod(s))
        ts.append(torch.from_numpy(raw[off:off + n].reshape(s).copy()))
        off += n
    Xall = torch.from_numpy(raw[off:off + nb * N * d].reshape(nb * N, d).copy())
    off += nb * N * d
    Qall = torch.from_numpy(raw[off:off + nb * Q * d].reshape(nb * Q, d).copy())
    ew0, eb0, ew1, eb1, ewh, ebh, dw0, db0, dw1, db1, dw2, db2 = ts
    sigma, alpha, steps, tol = args.sigma, args.alpha, args.steps, 1e-6
    inv = 1.0 / (sigma * sigma)

    def encode(x):
        h = F.relu(F.linear(x, ew0, eb0))
        h = F.relu(F.linear(h, ew1, eb1))
        return F.linear(h, ewh, ebh)[:, :L]

    # the prior's mixture sum_i w_i m_i of every query: one block (2-D) or a group of blocks (3-D, bmm)
    def gmm_bias(Mz):
        hn = (-0.5 * inv) * (Mz * Mz).sum(-1)
        return hn if Mz.dim() == 2 else hn[:, None, :]

    def mixture(hn, z, Mz):
        if Mz.dim() == 2:
            return torch.softmax(torch.addmm(hn, z, Mz.T, alpha=inv), -1) @ Mz
        return torch.bmm(torch.softmax(torch.baddbmm(hn, z, Mz.transpose(1, 2), alpha=inv), -1), Mz)

    def gmm_block(Mz, z):
        hn = gmm_bias(Mz)
        done = torch.zeros(z.shape[:-1], dtype=torch.bool)
        count = torch.zeros(z.shape[:-1])
        for t in range(steps):
            nz = mixture(hn, z, Mz)
            ch = (nz - z).abs().amax(-1)
            z = nz
            done |= ch < tol
            count[~done] = t + 1
            if bool(done.all()):
                break
        return z, count

    def pc_block(Mz, z, x):
        hn = gmm_bias(Mz)
        u1 = F.relu(F.linear(z, dw0, db0))
        u2 = F.relu(F.linear(u1, dw1, db1))
        for _ in range(steps):
            p1 = F.relu(F.linear(z, dw0, db0))
            p2 = F.relu(F.linear(u1, dw1, db1))
            p3 = torch.sigmoid(F.linear(u2, dw2, db2))
            e1, e2, e3 = u1 - p1, u2 - p2, x - p3
            g0 = (e1 * (p1 > 0)) @ dw0               # f_0'(z)^T e_1
            g1 = (e2 * (p2 > 0)) @ dw1               # f_1'(u_1)^T e_2
            g2 = (e3 * p3 * (1 - p3)) @ dw2          # f_2'(u_2)^T e_3
            e0 = z - mixture(hn, z.view(Mz.shape[0], -1, L) if Mz.dim() == 3 else z, Mz).view(z.shape)
            u1 = u1 + alpha * (g1 - e1)
            u2 = u2 + alpha * (g2 - e2)
            z = z + alpha * (g0 - e0)
        return z

    only = set(args.only.split(",")) if args.only else None
    results = {}
    for case in CASES:
        if only is not None and case not in only:
            continue
        res = torch.empty(nb * Q, L)

        def run(G=1):
            with torch.no_grad():
                for b in range(0, nb, G):
                    g = min(G, nb - b)
                    X = Xall[b * N:(b + g) * N]
                    q = Qall[b * Q:(b + g) * Q]
                    Mz = encode(X)
                    z = encode(q)
                    if g > 1:  # block j's queries against block j's codes: batched [g, N, L]
                        Mz = Mz.view(g, N, L)
                    if case == "vae-gmm":
                        z, _ = gmm_block(Mz, z.view(g, Q, L) if g > 1 else z)
                    else:
                        z = pc_block(Mz, z, q)
                    res[b * Q:(b + g) * Q] = z.reshape(g * Q, L)
            return res

        results[case] = run().numpy().copy()
        t, reps, best = pc.median_time(run, args.seconds)
        out["ms_" + case] = t * 1e3
        out["best_" + case] = best * 1e3
        out["reps_" + case] = reps
        if args.group > 1:  # the same grouping as engram's, for reference
            grouped = lambda: run(args.group)  # noqa: E731
            results[case + "/grouped"] = grouped().numpy().copy()
            t, reps, best = pc.median_time(grouped, args.seconds)
            out["msg_" + case] = t * 1e3
            out["bestg_" + case] = best * 1e3
            out["repsg_" + case] = reps
    if args.out:
        with open(args.out, "wb") as f:
            for case in CASES:
                for key in (case, case + "/grouped"):
                    if key in results:
                        f.write(results[key].astype(np.float32).tobytes())
    pc.emit(out)


if __name__ == "__main__":
    main()
