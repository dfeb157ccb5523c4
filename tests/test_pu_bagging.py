"""Stage 1 of PU-GAN: PU bagging follows Mordelet & Vert's four steps, the reliable-normal rule,
and the stage-1-alone detector."""

import numpy as np
import pytest
from helpers import moons_pu
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from pugan.pu_bagging import PUBaggingClassifier, PUBaggingDetector, select_reliable


class RecordingTree(DecisionTreeClassifier):
    """A tree that remembers what it was trained on, to check what each round saw."""

    def fit(self, X, y, sample_weight=None, check_input=True):
        self.seen_X_ = np.array(X, copy=True)
        self.seen_y_ = np.array(y, copy=True)
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


def _pu_data(n_p=40, n_u=160, seed=0):
    rng = np.random.RandomState(seed)
    X = np.column_stack([np.arange(n_p + n_u, dtype=float), rng.normal(size=n_p + n_u)])
    y = np.r_[np.ones(n_p, dtype=int), np.zeros(n_u, dtype=int)]
    return X, y


@parametrize_with_checks([PUBaggingClassifier(n_estimators=5, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_each_round_has_a_share_of_p_and_a_balanced_bootstrap_of_u():
    X, y = _pu_data()
    clf = PUBaggingClassifier(RecordingTree(), n_estimators=7, random_state=0).fit(X, y)
    n_p = int((y == 1).sum())
    assert clf.n_positives_ == round(2 / 3 * n_p) and clf.n_samples_ == clf.n_positives_
    for est, rows in zip(clf.estimators_, clf.estimators_samples_, strict=True):
        # step (1)+(2): a share of P without replacement, labelled positive, and K U draws
        seen_pos = est.seen_X_[est.seen_y_ == 1]
        p_rows = rows[:clf.n_positives_]
        assert (y[p_rows] == 1).all() and len(np.unique(p_rows)) == len(p_rows)
        np.testing.assert_array_equal(np.sort(seen_pos[:, 0]), np.sort(X[p_rows, 0]))
        u_rows = rows[clf.n_positives_:]
        assert (y[u_rows] == 0).all() and len(u_rows) == clf.n_samples_
        seen_neg = est.seen_X_[est.seen_y_ == 0]
        np.testing.assert_array_equal(np.sort(seen_neg[:, 0]), np.sort(X[u_rows, 0]))
    # with replacement: some round repeats a U row
    assert any(len(np.unique(r[clf.n_positives_:])) < clf.n_samples_
               for r in clf.estimators_samples_)


def test_oob_score_is_the_mean_over_rounds_where_the_row_was_out_of_bag():
    X, y = _pu_data()
    clf = PUBaggingClassifier(n_estimators=9, random_state=1).fit(X, y)
    expected = np.full(len(X), np.nan)
    for i in range(len(X)):
        probs = [est.predict_proba(X[i:i + 1])[0, 1]
                 for est, rows in zip(clf.estimators_, clf.estimators_samples_, strict=True)
                 if i not in set(rows)]
        expected[i] = np.mean(probs)
        assert clf.oob_count_[i] == len(probs) >= clf.min_oob
    np.testing.assert_allclose(clf.oob_decision_, expected)
    # new data: the average over every round
    avg = np.mean([e.predict_proba(X[:5])[:, 1] for e in clf.estimators_], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X[:5])[:, 1], avg)


def test_cap_subsamples_p_and_u_per_round():
    X, y = _pu_data(n_p=50, n_u=100)
    clf = PUBaggingClassifier(RecordingTree(), n_estimators=3, max_samples_cap=10,
                              random_state=0).fit(X, y)
    for est in clf.estimators_:
        assert (est.seen_y_ == 1).sum() == 10 and (est.seen_y_ == 0).sum() == 10


def _shaped(n_p, n_u, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_p + n_u, 2))
    return X, np.r_[np.ones(n_p, dtype=int), np.zeros(n_u, dtype=int)]


def test_huge_p_small_u_every_u_record_is_out_of_bag():
    """KDD at high labelling: |P| = 51,358, |U| = 525. K = |P| draws from 525 records would
    leave no U record out of bag; K is capped at |U| and every record gets OOB rounds."""
    X, y = _shaped(51_358, 525)
    clf = PUBaggingClassifier(n_estimators=8, random_state=0).fit(X, y)
    assert clf.n_samples_ == 525 and clf.n_positives_ == clf.max_samples_cap
    assert (clf.oob_count_ >= clf.min_oob).all()
    assert np.isfinite(clf.oob_decision_).all()
    assert clf.n_estimators_ >= 8


def test_small_p_huge_u_every_p_record_is_out_of_bag():
    X, y = _shaped(30, 20_000)
    clf = PUBaggingClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert clf.n_positives_ == 20 and clf.n_samples_ == 20
    assert (clf.oob_count_[y == 1] >= clf.min_oob).all()
    assert (clf.oob_count_[y == 0] >= clf.min_oob).all()


def test_rounds_are_added_until_every_record_is_out_of_bag_often_enough():
    X, y = _shaped(40, 12)
    few = PUBaggingClassifier(n_estimators=2, min_oob=4, random_state=0).fit(X, y)
    assert few.n_estimators_ > 2 and (few.oob_count_ >= 4).all()
    assert len(few.estimators_) == len(few.estimators_samples_) == few.n_estimators_


def test_impossible_out_of_bag_requirement_names_the_sizes():
    X, y = _shaped(40, 2)  # |U| = 2: out of bag in about a quarter of rounds, too few of 8
    with pytest.raises(ValueError, match=r"T=8 rounds \(\|P\|=40, \|U\|=2, K=2 U draws"):
        PUBaggingClassifier(n_estimators=2, max_estimators=8, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 labelled positives"):
        PUBaggingClassifier(n_estimators=2).fit(*_shaped(1, 50))
    # a single U record can never be out of bag: refused before any round runs
    with pytest.raises(ValueError, match=r"at least 2 unlabelled records.*got 1"):
        PUBaggingClassifier(n_estimators=2, max_estimators=8).fit(*_shaped(40, 1))


def test_determinism_and_seed_dependence():
    X, y = _pu_data()
    a = PUBaggingClassifier(n_estimators=6, random_state=3).fit(X, y)
    b = PUBaggingClassifier(n_estimators=6, random_state=3, n_jobs=2).fit(X, y)
    c = PUBaggingClassifier(n_estimators=6, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.oob_decision_, b.oob_decision_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.oob_decision_, c.oob_decision_, equal_nan=True)


@pytest.mark.parametrize("params, match", [
    ({"n_estimators": 0}, "n_estimators"),
    ({"max_samples": -1}, "max_samples"),
    ({"max_samples_cap": 0}, "max_samples_cap"),
    ({"p_fraction": 1.0}, "p_fraction"),
    ({"min_oob": 0}, "min_oob"),
])
def test_bad_params(params, match):
    X, y = _pu_data()
    with pytest.raises(ValueError, match=match):
        PUBaggingClassifier(**params).fit(X, y)


@pytest.mark.parametrize("name", ["n_estimators", "min_oob", "max_samples_cap"])
def test_bool_counts_are_refused(name):
    """A bool is an Integral to Python, but ``n_estimators=True`` is a slip, not a count."""
    X, y = _pu_data()
    with pytest.raises(TypeError, match=f"{name} must be an int; got the bool True"):
        PUBaggingClassifier(**{name: True}).fit(X, y)


def test_non_classifier_estimator_is_rejected():
    from sklearn.linear_model import LinearRegression
    X, y = _pu_data()
    with pytest.raises(TypeError, match="predict_proba"):
        PUBaggingClassifier(LinearRegression()).fit(X, y)


def test_select_reliable_rule():
    p = np.linspace(0, 1, 101)  # quantile q of P scores is q
    u = np.array([0.02, 0.05, 0.5, 0.0005, np.nan, 1.0])
    normal, anomaly = select_reliable(u, p, normal_quantile=0.05, anomaly_quantile=0.01)
    np.testing.assert_array_equal(normal, [False, True, True, False, False, True])
    np.testing.assert_array_equal(anomaly, [False, False, False, True, False, False])
    normal, anomaly = select_reliable(u, p)
    assert not anomaly.any()
    with pytest.raises(ValueError, match="normal_quantile"):
        select_reliable(u, p, normal_quantile=1.5)
    with pytest.raises(ValueError, match="anomaly_quantile"):
        select_reliable(u, p, anomaly_quantile=0.0)
    with pytest.raises(ValueError, match="p_scores"):
        select_reliable(u, [np.nan])


def test_reliable_normals_are_mostly_normal_on_moons():
    X, anomaly, known = moons_pu(n=1200)
    det = PUBaggingDetector(n_estimators=20, random_state=0).fit(X, known_normal=known)
    u = ~known
    normal, _ = select_reliable(1 - det.decision_scores_[u], 1 - det.p_oob_scores_)
    assert anomaly[u][normal].mean() < 0.05          # clean: few anomalies kept
    assert normal[anomaly[u] == 0].mean() > 0.8       # and most U normals kept


def test_detector_on_moons_and_contract():
    X, anomaly, known = moons_pu(n=1200)
    Xt, at, _ = moons_pu(n=1200, seed=1)
    det = PUBaggingDetector(n_estimators=20, random_state=0)
    det.fit(X, known_normal=known)
    assert roc_auc_score(anomaly, det.decision_scores_) > 0.97
    assert roc_auc_score(at, det.decision_function(Xt)) > 0.97
    # threshold from the known normals' out-of-bag scores, never from labels
    assert det.threshold_ == np.quantile(det.p_oob_scores_, 0.99, method="higher")
    assert (det.classifier_.oob_count_ >= det.min_oob).all()
    assert np.isfinite(det.decision_scores_).all()
    np.testing.assert_array_equal(det.labels_, det.decision_scores_ >= det.threshold_)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(det).items()}
    det.decision_function(Xt)
    assert vars(det).keys() == before.keys()
    for k, v in before.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(det, k), v)
        elif isinstance(v, (int, float, str)):
            assert getattr(det, k) == v, k  # threshold_, n_features_in_ and the parameters
        else:
            assert getattr(det, k) is v, k  # the fitted ensemble, None parameters
    again = clone(det).fit(X, known_normal=known)
    np.testing.assert_array_equal(again.decision_scores_, det.decision_scores_)


def test_detector_bad_input():
    X, _, known = moons_pu(n=200)
    det = PUBaggingDetector(n_estimators=3)
    with pytest.raises(NotFittedError):
        det.decision_function(X)
    with pytest.raises(ValueError, match="known_normal is required"):
        det.fit(X)
    with pytest.raises(ValueError, match="unlabelled"):
        det.fit(X, known_normal=np.ones(len(X), bool))
    with pytest.raises(ValueError, match="no True"):
        det.fit(X, known_normal=np.zeros(len(X), bool))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(bad, known_normal=known)
    det.fit(X, known_normal=known)
    with pytest.raises(ValueError, match="features"):
        det.decision_function(X[:, :1])


def test_fit_predict_gives_the_fitted_training_labels_not_a_rescoring():
    """fit_predict returns labels_: for PU bagging, training rows labelled by their out-of-bag
    scores, which a second pass (predict on the same rows, in-bag) would not reproduce."""
    X, _, known = moons_pu(n=400)
    det = PUBaggingDetector(n_estimators=5, random_state=0)
    labels = det.fit_predict(X, known_normal=known)
    np.testing.assert_array_equal(labels, det.labels_)
    np.testing.assert_array_equal(
        labels, PUBaggingDetector(n_estimators=5, random_state=0).fit(X, known_normal=known).labels_)
    assert (labels != det.predict(X)).any()
    with pytest.raises(ValueError, match="known_normal is required"):
        det.fit_predict(X)  # known_normal is passed on, not defaulted
