"""PyTorch peer of bench/mlp.c: one Adam step of an MLP 784-256-256-10, batch 256.

Prints one JSON line: ms (per step), reps, loss0..loss<k-1> (losses of the first k steps).
"""
import math

import peer_common as pc

BATCH = 256
WIDTH = (784, 256, 256, 10)


def main():
    def extra(ap):
        ap.add_argument("--check-steps", type=int, default=5)
        ap.add_argument("--lr", type=float, default=1e-3)

    args = pc.parse_args(extra)
    torch = pc.import_torch(args.threads)
    import numpy as np
    from torch import nn

    layers = []
    for l in range(3):
        lin = nn.Linear(WIDTH[l], WIDTH[l + 1])
        lim = math.sqrt(6.0 / (WIDTH[l] + WIDTH[l + 1]))
        w = (2.0 * pc.values((WIDTH[l + 1], WIDTH[l]), 10 + l).astype(np.float64) - 1.0) * lim
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            lin.bias.zero_()
        layers.append(lin)
        if l < 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    x = torch.from_numpy(pc.values((BATCH, 784), 3))
    y = torch.from_numpy((7 * np.arange(BATCH)) % 10).long()
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    out = pc.info(torch, args.threads)
    for i in range(args.check_steps):
        out["loss%d" % i] = float(step())
    t, reps, best = pc.median_time(step, args.seconds)
    out["ms"] = t * 1e3
    out["best"] = best * 1e3
    out["reps"] = reps
    pc.emit(out)


if __name__ == "__main__":
    main()
