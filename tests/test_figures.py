"""Figure helpers shared by every report figure."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.figures import figure_legend  # noqa: E402


def test_the_legend_names_a_detector_missing_from_the_first_panel():
    """A detector skipped on the first panel's dataset (the exact OCSVM above its row cap) is
    drawn on later panels and must still be named in the figure's one legend, once."""
    fig, axes = plt.subplots(1, 2)
    axes[0].plot([0, 1], [0, 1], label="iforest")
    axes[1].plot([0, 1], [1, 0], label="iforest")
    axes[1].plot([0, 1], [0.5, 0.5], label="ocsvm-normals")
    figure_legend(fig, axes, loc="outside right center")
    names = [text.get_text() for text in fig.legends[0].get_texts()]
    plt.close(fig)
    assert names == ["iforest", "ocsvm-normals"]


def test_a_label_with_settings_keeps_its_detectors_colour():
    """A config's default label is ``name(params)`` with no space: it must read as PU-GAN
    (vermillion), not as a plugin's name hashed onto another detector's colour and dash."""
    from benchmarks.figures import FIXED, line_style

    pugan = FIXED["pugan"][0]
    assert line_style("pugan(hidden=32,n_epochs=2)", 0)["color"] == pugan
    assert line_style("pugan-distilled(hidden=32)", 0)["color"] == FIXED["pugan-distilled"][0]
    assert line_style("pugan[lam=0.5]", 0) == {"color": pugan, "marker": "o", "linestyle": ":"}
    assert line_style("pugan (paper settings)", 1)["linestyle"] == ":"
    assert line_style("pugan (tuned)", 1)["linestyle"] == "-"
    assert line_style("pugan", 2)["linestyle"] == "-"
