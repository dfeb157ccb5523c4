"""PU-GAN end to end on small moons, with tiny networks: contract, determinism, persistence, errors."""

import copy

import numpy as np
import pytest
import torch
from helpers import TINY_PUGAN, moons_pu
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from pugan import PUGAN
from pugan.base import MAX_SEED, quantile_threshold


@pytest.fixture(scope="module")
def fitted_with_rows():
    """The fitted detector, its data and the GAN's training rows as stage 1 chose them (the
    detector keeps only their count, so the choice is recorded on the way out)."""
    X, y, known = moons_pu()
    det = PUGAN(random_state=0, score="reconstruction", **TINY_PUGAN)
    chosen = []
    select = PUGAN.select_gan_rows

    def recording(self, *args, **kw):
        rows = select(self, *args, **kw)
        chosen.append(rows.copy())
        return rows

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PUGAN, "select_gan_rows", recording)
        det.fit(X, known_normal=known)
    (gan_rows,) = chosen
    return det, X, y, known, gan_rows


@pytest.fixture(scope="module")
def fitted(fitted_with_rows):
    return fitted_with_rows[:4]


def test_end_to_end_moons_beats_chance(fitted_with_rows):
    det, X, y, known, gan_rows = fitted_with_rows
    Xt, yt, _ = moons_pu(seed=1)
    # tiny networks and three epochs: the bar is "well above chance" (0.5), with room for the
    # seed-to-seed spread of such small fits, not the method's quality
    assert roc_auc_score(yt, det.decision_function(Xt)) > 0.7
    assert roc_auc_score(y, det.decision_scores_) > 0.7
    # the threshold comes from the known normals' scores, never from labels
    assert det.threshold_ == np.quantile(det.decision_scores_[known], 0.99, method="higher")
    np.testing.assert_array_equal(det.labels_, det.decision_scores_ >= det.threshold_)
    np.testing.assert_array_equal(det.predict(Xt), det.decision_function(Xt) >= det.threshold_)
    # stage 1 kept reliable normals, and few anomalies among them: a smaller share of
    # anomalies than in U as a whole (a choice blind to the PU scores keeps U's share)
    unlabelled = ~known
    reliable = gan_rows & unlabelled
    assert gan_rows[known].all() and reliable.sum() == det.n_reliable_ > 0
    assert det.n_gan_rows_ == gan_rows.sum() == known.sum() + det.n_reliable_
    assert y[reliable].mean() < y[unlabelled].mean()


def test_decision_function_writes_nothing(fitted):
    """Scoring reads the fit and changes none of it: no attribute, no weight or buffer of any
    network the detector holds, no gradient left on them, no entry of the training history."""
    det, X, _, _ = fitted
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(det).items()}
    nets = {k: v for k, v in vars(det).items() if isinstance(v, torch.nn.Module)}
    assert {"generator_", "encoder_", "discriminator_"} <= nets.keys()
    states = {k: {n: t.clone() for n, t in m.state_dict().items()} for k, m in nets.items()}
    history = copy.deepcopy(det.history_)
    assert history
    det.decision_function(X[:50])
    assert vars(det).keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(det, k), v)
        elif isinstance(v, (int, float, str)):
            np.testing.assert_equal(getattr(det, k), v)  # NaN (no student) equals NaN
        else:  # None (an unset cache, no student), the networks, the stage-1 ensemble, lists
            assert getattr(det, k) is v, k
    for k, m in nets.items():
        assert getattr(det, k) is m
        state = m.state_dict()
        assert state.keys() == states[k].keys(), k
        assert all(torch.equal(t, states[k][n]) for n, t in state.items()), k
        assert all(p.grad is None for p in m.parameters()), k
    assert det.history_ == history


@pytest.mark.parametrize("extra", [{}, {"inversion": "encoder", "score": "combined"}])
def test_same_seed_same_scores(extra):
    X, _, known = moons_pu(n=400)
    params = {**TINY_PUGAN, "n_epochs": 1, "encoder_epochs": 1, **extra}
    a = PUGAN(random_state=3, **params).fit(X, known_normal=known)
    b = PUGAN(random_state=3, **params).fit(X, known_normal=known)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    c = PUGAN(random_state=4, **params).fit(X, known_normal=known)
    assert not np.array_equal(a.decision_scores_, c.decision_scores_)


def test_torch_global_rng_untouched():
    X, _, known = moons_pu(n=300)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert torch.equal(torch.rand(3), expected)


def test_save_load_round_trip(fitted, tmp_path):
    det, X, _, _ = fitted
    path = tmp_path / "pugan.pt"
    det.save(path)
    back = PUGAN.load(path)
    np.testing.assert_array_equal(back.decision_function(X[:200]), det.decision_function(X[:200]))
    assert back.threshold_ == det.threshold_
    assert back.get_params() == det.get_params()
    np.testing.assert_array_equal(back.predict(X[:50]), det.predict(X[:50]))
    # every fitted attribute comes back (by name, no list kept by hand) but the stage-1
    # ensemble, which scoring never uses
    fitted_names = {k for k in vars(det) if k.endswith("_") and not k.startswith("_")}
    restored = {k for k in vars(back) if k.endswith("_") and not k.startswith("_")}
    assert restored == fitted_names - {"pu_classifier_"}
    assert back.history_ == det.history_ and back.gan_epochs_ == det.gan_epochs_
    np.testing.assert_array_equal(back.pu_known_scores_, det.pu_known_scores_)
    bad = tmp_path / "bad.pt"
    torch.save({"something": 1}, bad)
    with pytest.raises(ValueError, match="not a PUGAN file"):
        PUGAN.load(bad)


def test_training_scores_are_computed_on_first_read():
    """fit scores only the known normals (for the threshold); decision_scores_ on first read
    gives what scoring the training rows gives, with the known normals' scores the threshold
    was set from, and labels_ follow it."""
    X, _, known = moons_pu(n=400)
    det = PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert det._decision_scores is None
    scores = det.decision_scores_
    np.testing.assert_allclose(scores, det.decision_function(X), rtol=1e-6, atol=1e-9)
    assert det.threshold_ == pytest.approx(quantile_threshold(scores[known],
                                                              det.threshold_quantile), rel=1e-6)
    np.testing.assert_array_equal(det.labels_, scores >= det.threshold_)
    assert det.decision_scores_ is scores  # kept, not recomputed


def test_save_names_an_attribute_it_cannot_store(fitted, tmp_path):
    det, *_ = fitted
    det.scratch_ = object()
    try:
        with pytest.raises(TypeError, match=r"cannot save scratch_ \(object\)"):
            det.save(tmp_path / "pugan.pt")
    finally:
        del det.scratch_
    assert not (tmp_path / "pugan.pt").exists()


@pytest.mark.parametrize("old", ["pugan-1", "pugan-2", "pugan-3"])
def test_load_names_an_earlier_format(old, tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": old, "params": {}, "networks": {}, "arrays": {}, "values": {}}, path)
    with pytest.raises(ValueError, match=f"earlier pugan-bench \\(format '{old}'"):
        PUGAN.load(path)


def test_load_refuses_a_file_with_one_byte_changed(fitted, tmp_path):
    """torch's reader checks no checksum: a byte changed inside the saved networks would load
    and score. The digest saved beside the contents refuses it by name."""
    import io

    det, X, _, _ = fitted
    path = tmp_path / "pugan.pt"
    det.save(path)
    data = bytearray(path.read_bytes())
    content = torch.load(io.BytesIO(bytes(data)), weights_only=True)["content"]
    content = content.numpy().tobytes()
    middle = len(content) // 2
    at = bytes(data).find(content[middle:middle + 64]) + 10  # inside the contents
    assert at > 10
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged PUGAN file: its contents do not match"):
        PUGAN.load(path)


def test_a_record_beyond_float32_gets_an_error_not_an_infinite_score(fitted):
    """PU-GAN's networks compute in float32: a record that leaves its range after scaling is
    refused by name instead of scoring as infinity."""
    det, X, _, _ = fitted
    far = X[:5].copy()
    far[3, 0] = 1e300
    with pytest.raises(ValueError, match=r"non-finite anomaly score \(first: row 3"):
        det.decision_function(far)
    with pytest.raises(ValueError, match=r"non-finite anomaly score \(first: row 3"):
        det.score_components(far)  # each term, as the ablation reads them
    assert np.isfinite(det.decision_function(X[:5])).all()


def test_score_components_are_what_the_scores_are_made_of(fitted):
    """decision_function is the ``score`` field of score_components; the combined field mixes
    the two standardised terms by ``lam``; another inversion gives other numbers."""
    det, X, _, _ = fitted
    parts = det.score_components(X[:300])
    np.testing.assert_array_equal(det.decision_function(X[:300]), parts.reconstruction)
    np.testing.assert_allclose(parts.combined, det.lam * parts.reconstruction
                               + (1 - det.lam) * parts.discrimination)
    encoder = det.score_components(X[:300], inversion="encoder")
    assert not np.array_equal(encoder.reconstruction, parts.reconstruction)
    with pytest.raises(ValueError, match="inversion must be one of"):
        det.score_components(X[:3], inversion="nearest")
    with pytest.raises(ValueError, match="features"):
        det.score_components(X[:3, :1])


def test_fit_is_its_public_stages_in_order():
    """Calling the stage methods by hand, as fit does, gives fit's training scores: the stages
    are the fit, not a copy of it."""
    X, _, known = moons_pu(n=400)
    params = dict(random_state=0, **{**TINY_PUGAN, "n_epochs": 1})
    whole = PUGAN(**params).fit(X, known_normal=known)
    det = PUGAN(**params)
    rng = np.random.RandomState(0)
    pu_seed, torch_seed = (int(s) for s in rng.randint(MAX_SEED, size=2))
    det.fit_scaling(X[known], X)
    gan_mask = det.select_gan_rows(X, known, seed=pu_seed)
    Xs = det.scale_records(X)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # fit's own thread count (n_jobs=1): the same sums in order
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(torch_seed)
        torch_rng = torch.Generator().manual_seed(torch_seed)
        seqs, val = det.gan_training_sample(Xs, gan_mask, known, torch_rng)
        det.train_networks(seqs, torch_rng, val=val, n_features=X.shape[1])
        det.calibrate(Xs, gan_mask, rng)
    torch.set_num_threads(threads)
    np.testing.assert_array_equal(det.decision_function(X), whole.decision_scores_)
    assert det.n_reliable_ == whole.n_reliable_ > 0


def test_build_networks_reads_only_the_parameters():
    G, D, E, latent_dim = PUGAN().build_networks(6, 1)
    assert latent_dim == 3   # the record latent: half of six attributes
    z = torch.zeros(4, 1, latent_dim)
    assert G(z).shape == (4, 6, 1) and D(G(z)).shape[0] == 4 and E(G(z)).shape[0] == 4


@pytest.mark.parametrize("train_on", ["p", "all"])
def test_ablation_training_sets(train_on):
    X, _, known = moons_pu(n=300)
    det = PUGAN(random_state=0, train_on=train_on, **{**TINY_PUGAN, "n_epochs": 1}).fit(
        X, known_normal=known)
    assert det.n_gan_rows_ == (known.sum() if train_on == "p" else len(X))
    assert det.n_reliable_ == 0


def test_window_mode_scores_every_record():
    X, y, known = moons_pu(n=305)
    det = PUGAN(random_state=0, window=8, window_step=4, **{**TINY_PUGAN, "n_epochs": 1})
    det.fit(X, known_normal=known)
    assert det.decision_scores_.shape == (305,)
    assert det.seq_len_ == 8 and det.n_signals_ == 2
    s = det.decision_function(X[:8])   # one window's worth of records
    assert s.shape == (8,) and np.isfinite(s).all()
    with pytest.raises(ValueError, match="fewer than window=8"):  # it would wrap around
        det.decision_function(X[:5])


def test_all_p_allowed_without_pu_stage_but_not_with_it():
    X, _, _ = moons_pu(n=200)
    everything = np.ones(len(X), dtype=bool)
    with pytest.raises(ValueError, match="unlabelled"):
        PUGAN(**TINY_PUGAN).fit(X, known_normal=everything)
    det = PUGAN(train_on="p", random_state=0, **{**TINY_PUGAN, "n_epochs": 1})
    det.fit(X, known_normal=everything)
    assert np.isfinite(det.threshold_)


def test_bad_input():
    X, _, known = moons_pu(n=200)
    det = PUGAN(**TINY_PUGAN)
    with pytest.raises(NotFittedError):
        det.decision_function(X)
    with pytest.raises(ValueError, match="known_normal is required"):
        det.fit(X)
    with pytest.raises(ValueError, match="no True"):
        det.fit(X, known_normal=np.zeros(len(X), bool))
    with pytest.raises(ValueError, match="known_normal must be a 1-D"):
        det.fit(X, known_normal=known[:-1])
    bad = X.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(bad, known_normal=known)
    with pytest.raises(ValueError, match="fewer than window"):
        PUGAN(window=30, **TINY_PUGAN).fit(X[:20], known_normal=known[:20])
    with pytest.raises(ValueError, match="2-D"):
        det.fit(X[:, 0], known_normal=known)


@pytest.mark.parametrize("params, match", [
    ({"train_on": "u"}, "train_on"),
    ({"score": "both"}, "score"),
    ({"inversion": "newton"}, "inversion"),
    ({"lam": 1.5}, "lam"),
    ({"threshold_quantile": 0.0}, "threshold_quantile"),
    ({"n_epochs": 0}, "n_epochs"),
    ({"window": 1}, "window"),
    ({"window": 3, "window_step": 5}, r"window_step \(5\) must be at most window \(3\)"),
    ({"hidden": 2.5}, "hidden"),
    ({"device": "tpu"}, "device"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"scaling": "zscore"}, "scaling"),
    ({"d_optimizer": "rmsprop"}, "d_optimizer"),
    ({"latent": "window"}, "latent"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"latent_dim": "half"}, "latent_dim"),
    ({"recon_weight": -1.0}, "recon_weight"),
    ({"recon_weight": float("inf")}, "recon_weight must be a finite number"),
    ({"window_step": 3}, "window_step=3 is the stride between windows: it needs window set"),
    ({"max_seq_len": 4, "window": 10}, "max_seq_len=4 groups .* it needs window=None"),
    ({"student_steps": 0}, "student_steps"),
    ({"inversion": "distilled", "window": 12}, "window=None"),
    ({"precision": "float16"}, "precision"),
    ({"recon_rounds": 0}, "recon_rounds"),
    ({"recon_rounds": 1.5}, "recon_rounds"),
    ({"max_seq_len": 0}, "max_seq_len"),
    ({"early_stopping": 0}, "early_stopping"),
    ({"early_stopping": 2, "recon_weight": 0.0}, "early_stopping"),
])
def test_bad_params(params, match):
    X, _, known = moons_pu(n=100)
    with pytest.raises(ValueError, match=match):
        PUGAN(**params).fit(X, known_normal=known)


def test_cuda_requested_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, _, known = moons_pu(n=100)
    with pytest.raises(ValueError, match="CUDA is not available"):
        PUGAN(device="cuda", **TINY_PUGAN).fit(X, known_normal=known)


def test_wrong_feature_count(fitted):
    det, X, _, _ = fitted
    with pytest.raises(ValueError, match="features"):
        det.decision_function(np.c_[X, X])


def test_gradient_inversion_never_worse_than_its_encoder_start():
    from pugan.inversion import invert_and_score
    from pugan.nets import Discriminator, Encoder, Generator

    torch.manual_seed(0)
    G, D, E = Generator(4, 1, 8, 1), Discriminator(1, 8), Encoder(1, 4, 8)
    for m in (G, D, E):
        m.eval().requires_grad_(False)
    x = torch.rand(64, 3, 1) * 2 - 1
    rec_e, disc_e = invert_and_score(G, D, E, x, inversion="encoder")
    rec_g, disc_g = invert_and_score(G, D, E, x, inversion="gradient", stop_level=0.0,
                                     max_steps=20, batch_size=16)
    assert (rec_g.mean(1) <= rec_e.mean(1) + 1e-7).all()
    assert (rec_g.mean(1) < rec_e.mean(1) - 1e-4).float().mean() > 0.5   # the search helps
    torch.testing.assert_close(disc_g, disc_e)                           # D does not depend on z
    # records already below the stop level are left at their encoder start
    skip, _ = invert_and_score(G, D, E, x, inversion="gradient", stop_level=float("inf"))
    torch.testing.assert_close(skip, rec_e)


def test_robust_scaling_and_adam_discriminator_round_trip(tmp_path):
    X, _, known = moons_pu(n=300)
    det = PUGAN(random_state=0, scaling="robust", d_optimizer="adam", train_on="p",
                **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert not det.generator_.bounded
    np.testing.assert_allclose(det.scale_center_, np.median(X[known], 0))  # fitted on P
    det.save(tmp_path / "r.pt")
    back = PUGAN.load(tmp_path / "r.pt")
    assert not back.generator_.bounded
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))


def test_record_latent_is_a_bottleneck_and_step_latent_is_mad_gans(tmp_path):
    """'auto' gives one latent of half a record's values (moons: 1) fed at every step; the
    MAD-GAN mode keeps a 15-value latent per step. Both survive save/load."""
    X, _, known = moons_pu(n=300)
    small = {**TINY_PUGAN, "n_epochs": 1, "encoder_epochs": 1}
    rec = PUGAN(random_state=0, train_on="p", **small).fit(X, known_normal=known)
    assert rec.latent_dim_ == 1 and rec.generator_.seq_len == 2
    with torch.no_grad():
        assert rec.encoder_(torch.zeros(5, 2, 1)).shape == (5, 1, 1)
    step = PUGAN(random_state=0, train_on="p", latent="step", recon_weight=0.0,
                 **small).fit(X, known_normal=known)
    assert step.latent_dim_ == 15
    with torch.no_grad():
        assert step.encoder_(torch.zeros(5, 2, 1)).shape == (5, 2, 15)
    for det in (rec, step):
        det.save(tmp_path / "d.pt")
        back = PUGAN.load(tmp_path / "d.pt")
        np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))


def test_joint_reconstruction_makes_normals_reachable():
    """The adversarial loss alone leaves a bottlenecked generator far from the normals; the
    joint reconstruction term (recon_weight) brings G(E(x)) onto them."""
    X, y, known = moons_pu(n=3000, labelled=0.5)
    params = {**TINY_PUGAN, "n_epochs": 20, "batch_size": 32, "encoder_epochs": 0, "train_on": "p", "score":
              "reconstruction", "inversion": "encoder", "random_state": 0}
    joint = PUGAN(recon_weight=1.0, **params).fit(X, known_normal=known)
    adversarial = PUGAN(recon_weight=0.0, **params).fit(X, known_normal=known)

    def residual(det):
        Xs = torch.from_numpy(det.scale_records(X[known]).astype(np.float32))[:, :, None]
        with torch.no_grad():
            return float(((det.generator_(det.encoder_(Xs)) - Xs) ** 2).mean())

    assert residual(joint) < 0.6 * residual(adversarial)   # measured 0.14 vs 0.32
    assert roc_auc_score(y, joint.decision_scores_) > 0.85  # measured 0.91


def test_distilled_scorer_ranks_like_its_teacher_and_round_trips(tmp_path):
    """The student reproduces the encoder path's ranking (fidelity measured on inputs held out
    of its training, and again on fresh moons), keeps the detector contract, and is saved."""
    from scipy.stats import spearmanr

    X, y, known = moons_pu()
    det = PUGAN(random_state=0, inversion="distilled", student_steps=300, **TINY_PUGAN)
    det.fit(X, known_normal=known)
    assert det.student_ is not None and det.student_fidelity_ > 0.95
    assert any("student_loss" in h for h in det.history_)
    Xt, yt, _ = moons_pu(seed=1)
    student = det.decision_function(Xt)
    teacher = det.score_components(Xt, inversion="encoder").combined
    assert spearmanr(student, teacher)[0] > 0.95
    assert roc_auc_score(yt, student) > roc_auc_score(yt, teacher) - 0.03
    assert det.threshold_ == np.quantile(det.decision_scores_[known], 0.99, method="higher")
    far = det.decision_function(np.array([[1e6, -1e6], [0.0, 0.0]]))
    assert np.isfinite(far).all() and far[0] > far[1]   # far outside: huge, finite, ranked first
    path = tmp_path / "distilled.pt"
    det.save(path)
    back = PUGAN.load(path)
    np.testing.assert_array_equal(back.decision_function(Xt), student)
    assert back.student_fidelity_ == det.student_fidelity_
    again = PUGAN(random_state=0, inversion="distilled", student_steps=300, **TINY_PUGAN)
    again.fit(X, known_normal=known)
    np.testing.assert_array_equal(again.decision_function(Xt), student)


def test_distilled_scores_need_a_student(fitted):
    det, X, _, _ = fitted
    assert det.student_ is None and np.isnan(det.student_fidelity_)
    with pytest.raises(ValueError, match="no distilled scorer"):
        det.score_components(X[:10], inversion="distilled")


# tiny enough that a fit takes a fraction of a second: these tests follow rows, not quality
MINI = dict(n_bags=3, hidden=8, g_layers=1, n_epochs=1, encoder_epochs=1, g_rounds=1,
            inversion="encoder")


def _rows(det, seqs) -> set:
    """The records (float32, scaled) behind a batch of (N, n_features, 1) sequences."""
    return {tuple(r) for r in seqs.reshape(len(seqs), -1).numpy()}


def _scaled_rows(det, X) -> set:
    Xs = ((X - det.scale_center_) / det.scale_width_).astype(np.float32)
    return {tuple(r) for r in Xs}


def test_known_normals_are_held_out_of_the_gan_when_reliable_normals_fill_it(monkeypatch):
    """With at least max_gan_rows reliable normals, the GAN samples only those, so the known
    normals' scores (the threshold's reference) are held-out scores; otherwise it samples P
    and the reliable normals together."""
    import pugan.detector as detector

    seen = []

    def spy(G, D, seqs, **kw):
        seen.append(seqs.clone())
        return real(G, D, seqs, **kw)

    real = detector.train_gan
    monkeypatch.setattr(detector, "train_gan", spy)
    X, _, known = moons_pu(n=400)
    det = PUGAN(random_state=0, max_gan_rows=20, **MINI).fit(X, known_normal=known)
    assert det.n_reliable_ >= 20 and det.p_held_out_
    assert len(seen[-1]) == 20
    assert not _rows(det, seen[-1]) & _scaled_rows(det, X[known])
    assert np.isfinite(det.threshold_)

    big = PUGAN(random_state=0, max_gan_rows=None, **MINI).fit(X, known_normal=known)
    assert not big.p_held_out_
    assert _scaled_rows(big, X[known]) <= _rows(big, seen[-1])


def test_calibration_scores_a_seeded_subsample_of_the_gan_training_normals(monkeypatch):
    """Above 5,000 GAN training records, the score standardisation and the stop level are
    fitted on a seeded 5,000 of them (a full pass would cost a scoring of all of them)."""
    import pugan.detector as detector

    calls = []

    def spy(G, D, E, seqs, **kw):
        calls.append(seqs.clone())
        return real(G, D, E, seqs, **kw)

    real = detector.invert_and_score
    monkeypatch.setattr(detector, "invert_and_score", spy)
    X, _, _ = moons_pu(n=5300)
    known = np.arange(len(X)) < 5200  # train_on="p": the GAN's training records are these
    det = PUGAN(random_state=0, train_on="p", max_gan_rows=200, **MINI)
    det.fit(X, known_normal=known)
    *calibration, threshold_reference = calls
    assert len(threshold_reference) == known.sum()  # the known normals, for the threshold
    assert calibration and all(len(c) == 5000 for c in calibration)
    ref = _rows(det, calibration[0])
    assert len(ref) == 5000 and ref <= _scaled_rows(det, X[known])
    assert ref != _scaled_rows(det, X[known][:5000])  # drawn from them, not their first 5,000
    first = det.rec_center_, det.stop_level_

    calls.clear()
    again = PUGAN(random_state=0, train_on="p", max_gan_rows=200, **MINI)
    again.fit(X, known_normal=known)
    assert _rows(again, calls[0]) == ref and (again.rec_center_, again.stop_level_) == first


def test_numpy_parameters_save_and_load_as_the_numbers_they_hold(tmp_path):
    """A numpy seed used to be dropped (saved as None) and a numpy float made a file that
    load refused as damaged: both come back as the Python numbers they hold."""
    X, _, known = moons_pu(n=300)
    det = PUGAN(**{**TINY_PUGAN, "n_epochs": 1, "lam": np.float64(0.5),
                   "random_state": np.int64(7)}).fit(X, known_normal=known)
    det.set_params(device=torch.device("cpu")).save(tmp_path / "np.pt")  # a device object too
    back = PUGAN.load(tmp_path / "np.pt")
    assert back.random_state == 7 and type(back.random_state) is int and back.lam == 0.5
    np.testing.assert_array_equal(back.decision_function(X[:20]), det.decision_function(X[:20]))


def test_load_names_a_bad_device_not_the_file(fitted, tmp_path):
    det, *_ = fitted
    det.save(tmp_path / "p.pt")
    with pytest.raises(ValueError, match=r"device must be 'cpu' or 'cuda\[:n\]'; got 'gpu'"):
        PUGAN.load(tmp_path / "p.pt", device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            PUGAN.load(tmp_path / "p.pt", device="cuda")


def test_windows_default_to_a_stride_within_the_window_and_score_whole_windows():
    """window=5 alone fits (the stride defaults to 10 or the window when shorter); scoring
    fewer records than a window is refused, as fitting is, instead of wrapping around."""
    X, _, known = moons_pu(n=300)
    det = PUGAN(window=5, random_state=0, **{**TINY_PUGAN, "n_epochs": 1})
    det.fit(X, known_normal=known)
    assert det._window_step() == 5 and np.isfinite(det.decision_function(X[:40])).all()
    with pytest.raises(ValueError, match="X has 3 rows, fewer than window=5"):
        det.decision_function(X[:3])
    with pytest.raises(ValueError, match="X has 3 rows, fewer than window=5"):
        det.score_components(X[:3])
    assert PUGAN(window=30)._window_step() == 10


def test_a_refit_without_stage_1_leaves_no_stage_1_behind():
    X, _, known = moons_pu(n=300)
    det = PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert hasattr(det, "pu_known_scores_")
    det.set_params(train_on="p").fit(X, known_normal=known)
    assert not hasattr(det, "pu_known_scores_") and not hasattr(det, "pu_classifier_")


def test_training_scores_keep_the_fit_settings_when_parameters_change_after():
    """The threshold was set with the fit's scoring settings; the training rows' scores,
    computed on first read, use the same ones, so labels_ agree with threshold_ whatever
    set_params did in between."""
    X, _, known = moons_pu(n=400)
    params = dict(random_state=0, **{**TINY_PUGAN, "n_epochs": 1})
    read_at_once = PUGAN(**params).fit(X, known_normal=known)
    expected = read_at_once.decision_scores_
    later = PUGAN(**params).fit(X, known_normal=known)
    later.set_params(score="discrimination", lam=0.0, inversion="encoder")
    np.testing.assert_array_equal(later.decision_scores_, expected)
    assert not np.array_equal(later.decision_function(X), expected)  # scoring follows params


def test_a_failed_refit_leaves_no_half_of_the_earlier_fit():
    X, _, known = moons_pu(n=300)
    det = PUGAN(random_state=0, window=10, train_on="p", **{**TINY_PUGAN, "n_epochs": 1})
    det.fit(X, known_normal=known)
    few = np.zeros(len(X), dtype=bool)
    few[:5] = True
    with pytest.raises(ValueError, match="fewer than window=10"):
        det.fit(X * 100 + 50, known_normal=few)
    with pytest.raises(NotFittedError):
        det.decision_function(X)
    assert not [k for k in vars(det) if k.endswith("_")]


def test_fit_leaves_every_cuda_seed_alone(monkeypatch):
    """torch.manual_seed also reseeds every GPU (queued until CUDA starts); fit seeds only the
    CPU generator it restores afterwards."""
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(seed))
    X, _, known = moons_pu(n=200)
    PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert calls == []


@pytest.mark.parametrize("scaling", ["minmax", "robust"])
def test_a_column_constant_among_known_normals_scales_the_same_in_any_unit(scaling):
    """Such a column takes its width from all training rows: multiplying it by 1,000 leaves
    the scaled records, and so the scores, as they were."""
    X, _, known = moons_pu(n=300)
    X = np.c_[X, np.where(known, 0.0, np.linspace(0.0, 0.01, len(X)))]
    wide = X.copy()
    wide[:, 2] *= 1000
    det = PUGAN(scaling=scaling)
    det.fit_scaling(X[known], X)
    one = (X - det.scale_center_) / det.scale_width_
    det.fit_scaling(wide[known], wide)
    other = (wide - det.scale_center_) / det.scale_width_
    np.testing.assert_allclose(one, other)
    det.fit_scaling(X[known])  # without the training rows: the old unit-bound width of 1
    assert det.scale_width_[2] == 1.0


def test_a_value_past_float32_is_named_before_stage_1_and_keeps_the_earlier_fit():
    X, _, known = moons_pu(n=200)
    det = PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    threshold = det.threshold_
    wide = np.c_[X, np.where(np.arange(len(X)) == 7, 1e300, 0.0)]
    with pytest.raises(ValueError, match=r"column 2 of X holds 1 value\(s\) past float32's "
                                         r"range \(first at row 7: 1e\+300\)"):
        det.fit(wide, known_normal=known)
    assert det.threshold_ == threshold  # refused at the checks: the earlier fit stays
    PUGAN(train_on="p", **{**TINY_PUGAN, "n_epochs": 1}).fit(wide, known_normal=known)


def test_a_column_near_float64s_limit_whose_span_fits_is_scaled():
    """Its centre is taken in halves, so values near 1e308 with a finite span are scaled
    onto [-1, 1] instead of being refused as beyond float64."""
    X, _, known = moons_pu(n=200)
    X = np.c_[X, np.where(np.arange(len(X)) % 2, 1.2e308, 1.0e308)]
    det = PUGAN(train_on="p", random_state=0, **{**TINY_PUGAN, "n_epochs": 1})
    det.fit_scaling(X[known], X)
    assert det.scale_center_[2] == pytest.approx(1.1e308)
    assert np.abs(det._scale(X)[:, 2]).max() == pytest.approx(1.0)


def test_a_known_normal_whose_score_overflows_in_fit_is_named_by_its_row_of_x():
    """Fit scores the known normals alone; the row it names is the record's row of X."""
    X, _, _ = moons_pu(n=300)
    known = np.zeros(len(X), dtype=bool)
    known[100:200] = True
    X[150, 1] = 1e25
    det = PUGAN(scaling="robust", train_on="p", inversion="encoder", recon_weight=0.0,
                random_state=0, **{**TINY_PUGAN, "n_epochs": 1, "encoder_epochs": 0})
    with pytest.raises(ValueError, match=r"non-finite anomaly score \(first: row 150,"):
        det.fit(X, known_normal=known)


def test_a_column_beyond_float64_scaling_is_named():
    X, _, known = moons_pu(n=200)
    X = np.c_[X, np.where(np.arange(len(X)) % 2, 1.5e308, -1.5e308)]
    with pytest.raises(ValueError, match="column 2 of X spans more than float64 can scale"):
        PUGAN(train_on="p", **TINY_PUGAN).fit(X, known_normal=known)
    with pytest.raises(ValueError, match="column 2 of X holds .* past float32's range"):
        PUGAN(train_on="pu", **TINY_PUGAN).fit(X, known_normal=known)  # stage 1's check first


@pytest.mark.parametrize("X, match", [
    (np.ones((5, 2), dtype=complex), "must be real-valued; got complex"),
    ([[10 ** 400, 1.0]], "could not convert to float"),
    ([[1.0, 2.0], [3.0]], "must be numeric; could not convert"),   # ragged rows
])
def test_check_features_names_complex_and_overflowing_input(X, match):
    from pugan.base import check_features

    with pytest.raises(ValueError, match=match):
        check_features(X)
