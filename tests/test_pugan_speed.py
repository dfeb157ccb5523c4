"""PU-GAN's faster training is the same game, bfloat16 training works, CUDA end to end (skipped
without CUDA), and the profiling tools count and time what they say."""

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import TINY_PUGAN, moons_pu
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from benchmarks.perf.pugan_profile import STAGES, _Clock, gan_flops, lstm_flops, profile_fit
from pugan import PUGAN
from pugan.nets import Discriminator, Encoder, Generator
from pugan.train import native_bfloat16, resolve_precision, train_encoder, train_gan

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
#: oneDNN has no bfloat16 LSTM on a CPU without native bfloat16 products (AVX2-only x86, for
#: one), and "auto" trains in float32 there
native_bf16 = pytest.mark.skipif(not native_bfloat16(torch.device("cpu")),
                                 reason="needs a CPU with native bfloat16 products")



def _reference_gan_epoch(G, D, E, data, *, batch_size, latent_dim, rng, g_rounds, recon_weight,
                         recon_rounds):
    """The training loop as first written: one network call per term, no shared passes; the
    reconstruction term in the first ``recon_rounds`` generator rounds (None: in all)."""
    d_opt = torch.optim.SGD(D.parameters(), lr=0.1)
    g_opt = torch.optim.Adam(list(G.parameters()) + list(E.parameters()), lr=1e-3)
    losses = []
    for idx in torch.randperm(data.shape[0], generator=rng).split(batch_size):
        real = data[idx]
        b = real.shape[0]
        z = torch.randn(b, 1, latent_dim, generator=rng)
        with torch.no_grad():
            fake = G(z)
        lr_, lf = D(real), D(fake)
        d_loss = (F.binary_cross_entropy_with_logits(lr_, torch.ones_like(lr_))
                  + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)))
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        for g_round in range(g_rounds):
            z = torch.randn(b, 1, latent_dim, generator=rng)
            lf = D(G(z))
            g_loss = F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))
            loss = g_loss
            if recon_rounds is None or g_round < recon_rounds:
                loss = loss + recon_weight * F.mse_loss(G(E(real)), real)
            g_opt.zero_grad(set_to_none=True)
            loss.backward()
            g_opt.step()
        losses.append((d_loss.item(), g_loss.item()))
    return losses


def _nets(seed=0, T=5):
    torch.manual_seed(seed)
    return (Generator(2, 1, 16, 2, seq_len=T), Discriminator(1, 16), Encoder(1, 2, 16, shared=True))


@pytest.mark.parametrize("recon_rounds", [None, 1, 2])
def test_shared_passes_play_the_same_game(recon_rounds):
    """The fused calls (D on real and fake at once, G on fresh and encoded latents at once, no
    D weight gradients in G's rounds) give the same losses and weights as separate calls, with
    the reconstruction term in every generator round or in the first ``recon_rounds``."""
    data = torch.rand(300, 5, 1, generator=torch.Generator().manual_seed(0)) * 2 - 1
    G1, D1, E1 = _nets()
    ref = _reference_gan_epoch(G1, D1, E1, data, batch_size=64, latent_dim=2,
                               rng=torch.Generator().manual_seed(1), g_rounds=3, recon_weight=1.0,
                               recon_rounds=recon_rounds)
    G2, D2, E2 = _nets()
    hist = train_gan(G2, D2, data, n_epochs=1, batch_size=64, latent_dim=2,
                     rng=torch.Generator().manual_seed(1), g_rounds=3, E=E2, recon_weight=1.0,
                     recon_rounds=recon_rounds)
    assert hist[0]["d_loss"] == pytest.approx(np.mean([d for d, _ in ref]), rel=1e-5)
    assert hist[0]["g_loss"] == pytest.approx(np.mean([g for _, g in ref]), rel=1e-5)
    for a, b in zip((G1, D1, E1), (G2, D2, E2), strict=True):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5)
    assert all(p.requires_grad for p in D2.parameters())  # D is trainable again afterwards


def test_auto_precision_is_bfloat16_only_where_the_device_has_it(monkeypatch):
    import pugan.train as train_mod

    cpu = torch.device("cpu")
    assert resolve_precision("float32", cpu) == "float32"
    assert resolve_precision("bfloat16", cpu) == "bfloat16"
    for native, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(train_mod, "native_bfloat16", lambda device, n=native: n)
        assert resolve_precision("auto", cpu) == expected
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("half", cpu)


def test_fit_records_the_precision_it_trained_in(monkeypatch):
    """``precision_`` is what "auto" resolves to here, and it is the precision the GAN and
    the encoder were trained in (read from the training calls, not from the record)."""
    import pugan.detector as det_mod

    used = []

    def spying(name):
        real = getattr(det_mod, name)

        def spy(*args, **kw):
            used.append((name, kw["precision"]))
            return real(*args, **kw)
        return spy

    for name in ("train_gan", "train_encoder"):
        monkeypatch.setattr(det_mod, name, spying(name))
    X, _, known = moons_pu(n=300)
    det = PUGAN(random_state=0, **{**TINY_PUGAN, "n_epochs": 1}).fit(X, known_normal=known)
    assert det.precision == "auto"
    assert det.precision_ == ("bfloat16" if native_bfloat16(torch.device("cpu")) else "float32")
    assert used == [("train_gan", det.precision_), ("train_encoder", det.precision_)]


@native_bf16
def test_bfloat16_training_keeps_float32_weights_and_learns():
    X, y, known = moons_pu()
    det = PUGAN(random_state=0, score="reconstruction", precision="bfloat16", **TINY_PUGAN)
    det.fit(X, known_normal=known)
    assert all(p.dtype == torch.float32 for p in det.generator_.parameters())
    Xt, yt, _ = moons_pu(seed=1)
    # tiny networks, three epochs: well above chance (0.5), as in test_pugan
    assert roc_auc_score(yt, det.decision_function(Xt)) > 0.7
    again = PUGAN(random_state=0, score="reconstruction", precision="bfloat16", **TINY_PUGAN)
    np.testing.assert_array_equal(again.fit(X, known_normal=known).decision_scores_,
                                  det.decision_scores_)


@native_bf16
def test_encoder_training_in_bfloat16_lowers_its_loss():
    data = torch.rand(256, 5, 1, generator=torch.Generator().manual_seed(0)) * 2 - 1
    G, _, E = _nets()
    hist = train_encoder(E, G, data, n_epochs=4, batch_size=64, latent_dim=2,
                         rng=torch.Generator().manual_seed(0), precision="bfloat16")
    assert hist[-1]["e_loss"] < hist[0]["e_loss"]
    assert all(p.requires_grad for p in G.parameters())


def test_encoder_training_refuses_an_unknown_precision():
    data = torch.rand(64, 5, 1, generator=torch.Generator().manual_seed(0)) * 2 - 1
    G, _, E = _nets()
    with pytest.raises(ValueError, match="precision"):
        train_encoder(E, G, data, n_epochs=1, batch_size=64, latent_dim=2,
                      rng=torch.Generator().manual_seed(0), precision="half")


def test_flop_count_of_the_paper_generator():
    # 3 x 100 LSTM over 6 steps from a 3-value latent: the 2.4 MFLOP per record of the docs
    assert lstm_flops(3, 100, 3, 6) == 6 * 8 * 100 * (103 + 200 + 200)
    assert lstm_flops(1, 100, 1, 6, bidirectional=True) == 2 * lstm_flops(1, 100, 1, 6)
    shape = dict(seq_len=6, n_signals=1, latent_dim=3, hidden=100, g_layers=3, d_layers=1,
                 batch=128, g_rounds=3)
    every = gan_flops(**shape, recon=True)
    assert every["per_batch"] == every["d_round"] + 3 * (every["g_round"] + every["recon_round"])
    once = gan_flops(**shape, recon=True, recon_rounds=1)
    assert once["per_batch"] == every["per_batch"] - 2 * every["recon_round"]
    no_recon = gan_flops(**shape, recon=False, recon_rounds=1)
    assert no_recon["recon_round"] == 0
    assert no_recon["per_batch"] == every["d_round"] + 3 * every["g_round"]


def test_clock_times_nested_stages_exclusively():
    """A stage's time leaves out the stages nested in it, so the stages of one fit add up to
    its span once, neither counting an inner stage twice nor losing time between them. A
    fake timer makes every span exact."""
    now = [0.0]

    def advance(seconds):
        now[0] += seconds

    clock = _Clock(timer=lambda: now[0])
    with clock.stage("outer"):
        advance(1.0)
        with clock.stage("a"):
            advance(2.0)
        advance(0.5)
        with clock.stage("b"):
            advance(0.25)
            with clock.stage("a"):  # a label met again, deeper: its times accumulate
                advance(0.125)
            advance(0.5)
        advance(1.0)
    assert clock.totals == {"outer": 2.5, "a": 2.125, "b": 0.75}
    assert sum(clock.totals.values()) == now[0]  # the outer span, counted once


def test_profile_names_every_stage_and_adds_up():
    """The stages' sum stays within the CPU time of the profiled call: a nested stage counted
    in its parent too would exceed it. (No lower bound: the call's first imports fall outside
    every stage; the fake-timer test above pins the exact sum.)"""
    X, _, known = moons_pu(n=400)
    start = time.process_time()
    times, det = profile_fit(X, known, random_state=0, **TINY_PUGAN)
    span = time.process_time() - start
    assert set(times) == {*STAGES, "total"}
    assert times["gan"] > 0 and times["encoder"] > 0 and times["train-scores"] > 0
    assert 0 < times["total"] <= span
    assert hasattr(det, "decision_scores_")


def test_the_distilled_scorers_fidelity_check_is_distillation_time(monkeypatch):
    """fit checks the student against its teacher after distilling; that check is the
    distillation's cost, not the training rows' scores."""
    from pugan import PUGAN

    real = PUGAN._student_fidelity

    def slow_fidelity(self, held):
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        return real(self, held)

    monkeypatch.setattr(PUGAN, "_student_fidelity", slow_fidelity)
    X, _, known = moons_pu(n=400)
    times, _ = profile_fit(X, known, random_state=0, inversion="distilled",
                           **{**TINY_PUGAN, "student_steps": 20})
    assert times["distill"] >= 0.3 and times["train-scores"] < 0.3


def test_warm_up_epochs_train_the_networks_but_are_not_timed(monkeypatch, capsys):
    """The timed batches are the ``epochs`` ones only; the warm-up epochs run first, on the
    same networks, and the command line refuses counts that measure nothing."""
    from types import SimpleNamespace

    import pugan.train as train_mod
    from benchmarks.perf import pugan_profile

    calls = []
    real = train_mod.train_gan
    now = [0.0]  # a clock that only the training calls move: 100 s a warm-up, 7 s timed
    monkeypatch.setattr(pugan_profile, "time",
                        SimpleNamespace(process_time=lambda: now[0], perf_counter=lambda: now[0]))

    def counting(G, D, data, *, n_epochs, **kw):
        calls.append((id(G), n_epochs))
        now[0] += {1: 100.0, 2: 7.0}[n_epochs]
        return real(G, D, data, n_epochs=n_epochs, **kw)

    monkeypatch.setattr(train_mod, "train_gan", counting)
    step = pugan_profile.measure_gan_step(rows=64, epochs=2, warmup_epochs=1, hidden=8,
                                          batch_size=32)
    assert [n for _, n in calls] == [1, 2] and calls[0][0] == calls[1][0]
    # the timed seconds are the timed call's alone, over its batches
    assert step["batches"] == 4 and step["seconds"] == 7.0 and step["step_s"] == 7.0 / 4
    # a short last batch (80 rows in batches of 32: 32, 32, 16) is counted as the rows it has
    short = pugan_profile.measure_gan_step(rows=80, epochs=2, hidden=8, batch_size=32)
    assert short["batches"] == 6 and short["step_s"] == pytest.approx(7.0 / (2 * 80 / 32))
    assert short["flops_per_s"] == pytest.approx(short["flops_per_step"] / short["step_s"])
    with pytest.raises(ValueError, match="epochs must be positive"):
        pugan_profile.measure_gan_step(rows=64, epochs=0)
    # refused before the fit, which would take minutes
    monkeypatch.setattr(pugan_profile, "profile_fit", lambda *a, **k: pytest.fail("fitted"))
    for flag, message in ((["--gan-epochs", "0"], "--gan-epochs must be positive"),
                          (["--warmup-epochs", "-1"], "--warmup-epochs must be zero or more")):
        with pytest.raises(SystemExit):
            pugan_profile.main(flag)
        assert message in capsys.readouterr().err


def test_lstm_alone_counts_the_generators_work_as_the_batch_does(monkeypatch):
    """The LSTM-alone rate divides the work gan_flops counts for the generator's LSTM (forward
    once, backward twice, 256 sequences) by the fastest timed block's clock time."""
    from benchmarks.perf import pugan_profile
    from benchmarks.perf.lstm_compile import STEPS, pugan_lstms

    # the clock reads of three blocks: 3 s, then 2 s (the fastest), then 5 s
    ticks = iter([0.0, 3.0, 10.0, 12.0, 20.0, 25.0])
    monkeypatch.setattr(pugan_profile.time, "process_time", lambda: next(ticks))
    rate = pugan_profile.lstm_kernel_flops(1, precision="float32", reps=4, blocks=3)
    g = pugan_lstms()["generator"]
    batch = gan_flops(seq_len=STEPS, n_signals=1, latent_dim=g.input_size, hidden=g.hidden_size,
                      g_layers=g.num_layers, d_layers=1, batch=128, g_rounds=1, recon=True)
    # a generator round applies G to 128 fresh and 128 encoded latents; less its output layer
    g_lstm = batch["g_per_seq"] - 2 * g.hidden_size * STEPS
    work = 3 * 256 * g_lstm
    assert rate == pytest.approx(4 * work / 2.0)
    with pytest.raises(ValueError, match="precision must be one of"):
        pugan_profile.lstm_kernel_flops(1, precision="float16")


@cuda
@pytest.mark.parametrize("inversion", ["gradient", "distilled"])
def test_cuda_end_to_end_and_across_devices(tmp_path, inversion):
    X, y, known = moons_pu()
    params = dict(random_state=0, score="reconstruction", inversion=inversion,
                  student_steps=200, **TINY_PUGAN)
    det = PUGAN(device="cuda", **params).fit(X, known_normal=known)
    assert next(det.generator_.parameters()).is_cuda
    assert isinstance(det.decision_scores_, np.ndarray)
    Xt, yt, _ = moons_pu(seed=1)
    scores = det.decision_function(Xt)
    assert np.isfinite(scores).all() and roc_auc_score(yt, scores) > 0.75
    path = tmp_path / "cuda.pt"
    det.save(path)
    on_cpu = PUGAN.load(path, device="cpu")
    assert not next(on_cpu.generator_.parameters()).is_cuda
    # another device, other kernels: the same ranking, not the same bits
    assert spearmanr(on_cpu.decision_function(Xt[:200]), scores[:200])[0] > 0.99
    cpu_path = tmp_path / "cpu.pt"
    on_cpu.save(cpu_path)
    back = PUGAN.load(cpu_path, device="cuda")
    assert next(back.generator_.parameters()).is_cuda
    np.testing.assert_allclose(back.decision_function(Xt[:200]), scores[:200], rtol=1e-5)


@cuda
def test_cuda_bfloat16_training_leaves_the_global_cuda_rng_alone():
    X, y, known = moons_pu()
    torch.cuda.manual_seed(5)
    expected = torch.rand(3, device="cuda")
    torch.cuda.manual_seed(5)
    det = PUGAN(device="cuda", precision="bfloat16", random_state=0, score="reconstruction",
                **TINY_PUGAN).fit(X, known_normal=known)
    assert torch.equal(torch.rand(3, device="cuda"), expected)
    assert np.isfinite(det.decision_scores_).all()


def test_max_seq_len_groups_attributes_into_bounded_steps(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(600, 23)
    X[:30] += 4.0  # a few far-out records
    known = np.zeros(600, bool)
    known[100:400] = True
    det = PUGAN(random_state=0, max_seq_len=5, score="reconstruction", **TINY_PUGAN)
    det.fit(X, known_normal=known)
    assert (det.seq_len_, det.n_signals_) == (5, 5)  # 23 attributes: 5 steps of 5, padded
    assert det.latent_dim_ == 11  # half the attributes, padding not counted
    assert roc_auc_score(np.arange(600) < 30, det.decision_scores_) > 0.9
    path = tmp_path / "wide.pt"
    det.save(path)
    np.testing.assert_array_equal(PUGAN.load(path).decision_function(X[:50]),
                                  det.decision_function(X[:50]))
    narrow = PUGAN(random_state=0, max_seq_len=30, **TINY_PUGAN).fit(X, known_normal=known)
    assert (narrow.seq_len_, narrow.n_signals_) == (23, 1)  # within the bound: the paper's steps


@pytest.mark.parametrize("n_epochs, patience", [(30, 2), (8, 10)])
def test_early_stopping_stops_on_held_out_reconstruction(monkeypatch, n_epochs, patience):
    """With the held-out reconstruction made to stop improving after a known epoch, the GAN
    stops ``early_stopping`` epochs later (or when its epochs run out first), goes back to that
    epoch's weights and records one ``val_recon`` per GAN epoch: a fit that ignored the
    patience, kept its last weights or dropped the record fails here. The real loss falls
    every epoch on this small case, so the held-out reconstruction is replaced by a fixed
    sequence of values."""
    import pugan.detector as det_mod

    best_epoch = 3
    seen = {}  # the networks and held-out sequences that the fit hands to train_gan
    at_epoch, reported = [], []  # per GAN epoch: the networks' weights, the value given back
    real_mse, real_train_gan = F.mse_loss, det_mod.train_gan

    def states(nets):
        return [{k: v.clone() for k, v in m.state_dict().items()} for m in nets]

    def recording_train_gan(G, D, data, **kw):
        seen.update(nets=(G, D, kw["E"]), val=kw["val"])
        hist = real_train_gan(G, D, data, **kw)
        seen["returned"] = states(seen["nets"])
        return hist

    def held_out_mse(input, target, *args, **kw):
        if seen.get("val") is None or target is not seen["val"]:
            return real_mse(input, target, *args, **kw)  # a training loss: untouched
        epoch = len(reported)
        at_epoch.append(states(seen["nets"]))
        # falls until best_epoch, then stays above the best
        reported.append(1.0 / (1 + epoch) if epoch <= best_epoch else 1.0)
        return torch.tensor(reported[-1], dtype=torch.float64)

    monkeypatch.setattr(det_mod, "train_gan", recording_train_gan)
    monkeypatch.setattr(F, "mse_loss", held_out_mse)
    X, y, known = moons_pu()
    params = {**TINY_PUGAN, "n_epochs": n_epochs, "encoder_epochs": None, "recon_weight": 1.0}
    det = PUGAN(random_state=0, early_stopping=patience, score="reconstruction", **params)
    det.fit(X, known_normal=known)

    assert det.gan_epochs_ == min(best_epoch + 1 + patience, n_epochs)
    gan = [h for h in det.history_ if "d_loss" in h]
    assert [h["epoch"] for h in gan] == list(range(det.gan_epochs_))
    assert [h["val_recon"] for h in gan] == reported
    encoder = [h for h in det.history_ if "e_loss" in h]
    assert len(encoder) == det.gan_epochs_ and not any("val_recon" in h for h in encoder)
    # the best epoch's weights came back, not the last epoch's (training moved them since)
    last = at_epoch[-1]
    for kept, best, other in zip(seen["returned"], at_epoch[best_epoch], last, strict=True):
        assert all(torch.equal(kept[k], best[k]) for k in best)
        assert not all(torch.equal(kept[k], other[k]) for k in other)
    # the encoder trains on afterwards; the generator and discriminator stay as kept
    for net, best in zip((det.generator_, det.discriminator_), at_epoch[best_epoch][:2],
                         strict=True):
        assert all(torch.equal(v, best[k]) for k, v in net.state_dict().items())

    full = PUGAN(random_state=0, **params).fit(X, known_normal=known)
    assert full.gan_epochs_ == n_epochs and not any("val_recon" in h for h in full.history_)
    with pytest.raises(ValueError, match="early_stopping"):
        PUGAN(early_stopping=2, window=12, **TINY_PUGAN).fit(X, known_normal=known)


def test_hand_written_lstm_computes_what_nn_lstm_does():
    """The torch.compile comparison times the same function as oneDNN's LSTM, or it says
    nothing: outputs and weight gradients agree, over several layers and steps."""
    from benchmarks.perf.lstm_compile import UnrolledLSTM

    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 8, num_layers=2, batch_first=True)
    x = torch.randn(5, 4, 3)
    ref(x)[0].square().sum().backward()
    want = ref.weight_hh_l1.grad.clone()
    ref.zero_grad()
    unrolled = UnrolledLSTM(ref)
    out = unrolled(x)
    out.square().sum().backward()
    torch.testing.assert_close(out, ref(x)[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ref.weight_hh_l1.grad, want, rtol=1e-5, atol=1e-6)


def test_each_timed_lstm_call_differentiates_what_training_does():
    """In a generator round the discriminator is frozen and passes gradients back to the
    generated records (the input's gradient, no weight's), and the generator, fed by the
    encoder it trains with, takes both; the discriminator step takes the weights' alone."""
    from benchmarks.perf.lstm_compile import CALLS, _train_step, call_input, pugan_lstms

    lstms = pugan_lstms()
    for name, _, _, grads in CALLS:
        ref = lstms[name]
        ref.zero_grad(set_to_none=True)
        x = call_input(ref, 4, grads)
        _train_step(ref, x, "float32")()
        assert (x.grad is not None) == (grads in ("input", "both")), name
        assert all((p.grad is not None) == (grads in ("weights", "both"))
                   for p in ref.parameters()), name
    assert [c[3] for c in CALLS] == ["both", "input", "weights"]
    with pytest.raises(ValueError, match="grads must be"):
        call_input(lstms["generator"], 4, "neither")


def test_bfloat16_is_a_peak_only_where_the_processor_has_it(monkeypatch):
    """Emulated bfloat16 products run at a fraction of float32's rate: a ratio to them would
    flatter the GAN, so the FLOP report measures against them only where they are native."""
    import pugan.train as train_mod
    from benchmarks.perf.pugan_profile import peak_dtypes

    for native, expected in ((True, ("float32", "bfloat16")), (False, ("float32",))):
        monkeypatch.setattr(train_mod, "native_bfloat16", lambda device, n=native: n)
        assert peak_dtypes() == expected
