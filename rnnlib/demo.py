"""A two-minute tour of rnnlib in the terminal: ``python -m rnnlib.demo``."""

import numpy as np

import rnnlib


def main():
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    print(f"The lecture's set-up: X {X.shape} = (T, D, B), h_0 {h_0.shape} = (H, B), "
          f"weights {[w.shape for w in weights]}")
    y, _ = rnnlib.gru_step([X[1], h_0], weights)
    ok = np.allclose(y, rnnlib.LECTURE_GRU_X1)
    print(f"GRU step on X[1] reproduces the lecture's 16 published numbers: {ok}")
    ys, h_T = rnnlib.scan(rnnlib.gru_step, X, weights, h_0)
    hs, _ = rnnlib.forward("gru", weights, X, h_0)
    print(f"scan over T={len(ys)} steps and the sequence forward agree to "
          f"{np.abs(np.stack(ys) - hs).max():.1e}")
    for cell, step in (("rnn", rnnlib.rnn_step), ("gru", rnnlib.gru_step)):
        t_scan = rnnlib.timing.time_call(lambda: rnnlib.scan(step, X, weights, h_0), repeat=5)
        t_fwd = rnnlib.timing.time_call(lambda: rnnlib.forward(cell, weights, X, h_0), repeat=5)
        print(f"{cell}: scan {t_scan.median * 1e3:.2f} ms, forward {t_fwd.median * 1e3:.2f} ms (median)")
    print("Training on the adding problem, T=30 (MSE of always predicting 1: "
          f"{rnnlib.ADDING_BASELINE_MSE:.3f}):")
    for cell in rnnlib.CELLS:
        result = rnnlib.train(cell, "adding", T=30, steps=300, progress=False)
        print(f"  {cell}: held-out MSE {result.history['eval_loss'][-1]:.4f}")


if __name__ == "__main__":
    main()
