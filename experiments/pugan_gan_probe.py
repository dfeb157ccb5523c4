"""Does PU-GAN's generator learn the normal data? A probe on moons-paper.

Usage::

    python experiments/pugan_gan_probe.py --seeds 1000 \
        --params "{'latent': 'step', 'latent_dim': 15, 'recon_weight': 0}"

Fits PUGAN (encoder inversion, the given parameters) on one moons-paper split, then draws 5,000
samples from the generator and prints: the discriminator loss per epoch (2 ln 2 = 1.386 is
chance), the range of the samples, the share of samples within 0.1 of a known normal
(precision) and of known normals within 0.1 of a sample (coverage), and the reconstruction
AUROC on the test set. A collapsed generator shows as a tiny range and zero coverage.
"""

from __future__ import annotations

import argparse

import torch
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from benchmarks.seeds import add_seed_arguments, dict_literal, seeds_from_args
from benchmarks.splits import preset_split
from pugan.detector import PUGAN


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--params", type=dict_literal, default={},
                    help="PUGAN parameters as a Python dict literal")
    add_seed_arguments(ap, default=1)
    args = ap.parse_args(argv)
    for seed in seeds_from_args(args, ap):
        _probe(seed, args.params)


def _probe(seed: int, params: dict) -> None:
    s = preset_split("moons-paper", seed)
    det = PUGAN(random_state=seed, inversion="encoder", score="reconstruction", **params)
    det.fit(s.X_train, known_normal=s.known_normal)
    d_loss = [round(h["d_loss"], 3) for h in det.history_ if "d_loss" in h]
    steps = 1 if det.latent == "record" else det.seq_len_
    with torch.no_grad():
        z = torch.randn(5000, steps, det.latent_dim_, generator=torch.Generator().manual_seed(0))
        samples = det.generator_(z).numpy()[:, :, 0] * det.scale_width_ + det.scale_center_
    normals = s.X_train[s.known_normal]
    near_normal = NearestNeighbors(n_neighbors=1).fit(normals).kneighbors(samples)[0][:, 0]
    near_sample = NearestNeighbors(n_neighbors=1).fit(samples).kneighbors(normals)[0][:, 0]
    auroc = roc_auc_score(s.y_test, det.decision_function(s.X_test))
    print(f"moons-paper seed {seed} {params}")
    print(f"  discriminator loss per epoch: {d_loss}")
    print(f"  samples: x in [{samples[:, 0].min():.2f}, {samples[:, 0].max():.2f}], "
          f"y in [{samples[:, 1].min():.2f}, {samples[:, 1].max():.2f}]")
    print(f"  precision (samples within 0.1 of a known normal): {(near_normal < 0.1).mean():.3f}; "
          f"coverage (known normals within 0.1 of a sample): {(near_sample < 0.1).mean():.3f}")
    print(f"  reconstruction AUROC (encoder inversion): {auroc:.4f}")


if __name__ == "__main__":
    main()
