"""The HTML report: one self-contained page, every section present, every image decodes,
every table holds rows; and the committed reports/index.html is the generated one."""

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from PIL import Image

from benchmarks.html_report import SECTIONS, write_html_report

ROOT = Path(__file__).resolve().parents[1]


class _Page(HTMLParser):
    """Sections, images and the number of body rows of every table."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.table_rows = [], [], []
        self._in_tbody = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "table":
            self.table_rows.append(0)
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self.table_rows[-1] += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_tbody = False


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text())
    return page


def check_page(page: _Page, sections=None) -> None:
    assert page.sections == (sections or [s.id for s in SECTIONS])
    assert page.table_rows and all(n > 0 for n in page.table_rows)
    for src in page.images:
        assert src.startswith("data:image/png;base64,")  # embedded: opens offline
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            im.verify()


def test_the_page_embeds_tables_and_figures_and_names_what_was_not_run(tmp_path):
    results, reports = tmp_path / "results", tmp_path / "reports"
    (results / "paper").mkdir(parents=True)
    pd.DataFrame({"claim": ["c"], "verdict": ["reproduced"], "evidence": ["0.9 [0.8, 1.0]"],
                  "command": ["make reproduce-paper"]}).to_csv(
        results / "paper" / "scorecard.csv", index=False)
    figure = reports / "figures" / "paper_table2.png"
    figure.parent.mkdir(parents=True)
    Image.new("RGB", (4, 4), "white").save(figure)
    page_path = write_html_report(results, reports)
    assert page_path == reports / "index.html"
    page = parse(page_path)
    check_page(page)
    assert len(page.images) == 1 and len(page.table_rows) == 1
    text = page_path.read_text()
    assert "Not run yet: <code>make unknown-types</code>" in text


def test_a_users_own_sweep_gets_its_own_section_and_no_empty_ones(tmp_path):
    """`report DIR --html` on a folder the fixed sections do not know shows that folder's
    tables and figures first, and leaves out the fixed sections that have nothing."""
    from helpers import sweep_raw

    from benchmarks.cli import main
    from benchmarks.config import parse_config
    from benchmarks.harness import run_sweep

    folder = tmp_path / "work" / "my sweep"
    run_sweep(parse_config(sweep_raw(["t-centroid", "t-oracle"], seeds=(0, 1))), folder,
              n_jobs=1, progress=False)
    reports = tmp_path / "reports"
    assert main(["report", str(folder), "--reports-dir", str(reports), "--html"]) == 0
    page = parse(reports / "index.html")
    check_page(page, sections=["sweep-my-sweep"])
    text = (reports / "index.html").read_text()
    assert "Sweep my sweep" in text and "Not run yet" not in text
    assert "t-centroid" in text and len(page.images) >= 1
    # these are the user's results, not the repository's committed ones
    assert "from the committed results" not in text
    assert f"from the sweep folders in <code>{folder.parent}</code>, yours (<code>my sweep" \
        "</code>) first" in text
    # a user's folder that happens to be called "paper" is theirs, not the committed sweep:
    # its Table 2 is shown once, and nothing on the page offers `make reproduce-paper`, which
    # would rewrite the repository's sweep
    named = folder.rename(folder.parent / "paper")
    assert main(["report", str(named), "--reports-dir", str(reports), "--html"]) == 0
    check_page(parse(reports / "index.html"), sections=["sweep-paper"])
    text = (reports / "index.html").read_text()
    assert "make reproduce-paper" not in text and text.count("<h3>Table 2</h3>") == 1


def test_the_committed_page_is_complete_and_generated(tmp_path):
    committed = ROOT / "reports" / "index.html"
    check_page(parse(committed))
    fresh = write_html_report(ROOT / "results", ROOT / "reports", out=tmp_path / "index.html")
    assert fresh.read_text() == committed.read_text(), (
        "reports/index.html differs from what `pugan-bench report results/paper --html` "
        "writes from the committed results and figures")


def test_tables_say_whether_their_rows_come_from_the_current_code():
    """A table stamped with code versions (the ablation, the scale curves) gets a line saying
    how many rows the current code would not write; unstamped tables get none."""
    from benchmarks.fingerprint import row_code_version
    from benchmarks.html_report import currency_note
    from benchmarks.registry import make_detector

    now = row_code_version(make_detector("iforest", random_state=0))
    rows = pd.DataFrame({"detector_name": ["iforest", "iforest"], "detector_params": ["{}", "{}"],
                         "code_version": [now, "0.0.1+oldcode"]})
    assert "1 of 2 rows were produced by code that has changed" in currency_note(rows, "make x")
    assert "All 1 rows come from the current code" in currency_note(rows.iloc[:1], "make x")
    unstamped = rows.drop(columns="code_version")
    assert "carry no code version" in currency_note(unstamped, "make x")
    assert currency_note(unstamped, "make x", stamped=False) == ""


def test_tables_computed_from_a_sweep_say_whether_its_cells_are_current(tmp_path):
    """Table 2, the comparisons and the leaderboard carry no code versions: the page reads the
    sweep's cells behind them, so a stale cell is shown there too, with the seeds."""
    from benchmarks.fingerprint import row_code_version
    from benchmarks.html_report import sweep_note, write_html_report
    from benchmarks.registry import make_detector

    now = row_code_version(make_detector("iforest", random_state=0))
    cells = pd.DataFrame({"detector_name": ["iforest"] * 3, "detector_params": ["{}"] * 3,
                          "seed": [0, 1, 3], "code_version": [now, now, "0.0.1+oldcode"]})
    note = sweep_note(cells, "make x")
    assert "3 cells on seeds 0, 1, 3" in note and "1 of them were produced by code" in note
    assert "all from the current code" in sweep_note(cells.iloc[:2], "make x")
    # the page puts the note over a derived table of that sweep
    sweep = tmp_path / "results" / "paper"
    sweep.mkdir(parents=True)
    cells.assign(status="ok", dataset="d", detector="iforest", anomaly_ratio=0.1,
                 labelled_fraction=0.5, auprc=0.5, f1=0.5).to_csv(sweep / "results.csv",
                                                                  index=False)
    pd.DataFrame({"dataset": ["d"], "method": ["iforest"], "n_stale": [1]}).to_csv(
        sweep / "table2.csv", index=False)
    page = write_html_report(tmp_path / "results", tmp_path / "reports").read_text()
    assert "1 of them were produced by code that has changed" in page
    # the scorecard judges several sweeps: each gets its line, with its own command
    imbalance = tmp_path / "results" / "imbalance"
    imbalance.mkdir()
    (sweep / "results.csv").rename(imbalance / "results.csv")
    pd.DataFrame({"claim": ["c"], "verdict": ["v"], "evidence": ["e"],
                  "command": ["x"]}).to_csv(sweep / "scorecard.csv", index=False)
    page = write_html_report(tmp_path / "results", tmp_path / "reports").read_text()
    claims = page.split('id="scorecard"')[1].split("</section>")[0]
    assert "3 cells on seeds 0, 1, 3 of results/imbalance; 1 of them" in claims
    assert "make sweep-imbalance" in claims


def test_a_raw_best_f1_column_is_shown_as_the_oracle(tmp_path):
    """The ablation's rows keep the metric's own name, best_f1; the page, like every table,
    must name it the oracle it is (its threshold is chosen with the test labels)."""
    results = tmp_path / "results"
    (results / "ablation").mkdir(parents=True)
    pd.DataFrame({"dataset": ["moons-paper"], "f1": [0.9], "best_f1": [0.95]}).to_csv(
        results / "ablation" / "ablation.csv", index=False)
    page = write_html_report(results, tmp_path / "reports").read_text()
    assert "<th>best_f1_oracle</th>" in page
    assert "<th>best_f1</th>" not in page


def test_the_verdict_tables_show_the_corrected_p_the_verdict_was_judged_by():
    """A verdict against the rivals is judged on the Holm-corrected p: the page shows that
    one, under its own name, beside the level it was judged at."""
    page = (ROOT / "reports" / "index.html").read_text()
    section = page.split('<section id="readings">')[1].split("</section>")[0]
    assert "<th>p_holm</th>" in section and "<th>alpha</th>" in section
    assert "<th>p_value</th>" not in section


def test_table2_shows_every_metric_with_its_interval_and_every_way_a_cell_ended():
    """The page sets our F1 beside the paper's: it carries its interval, and a mean over fewer
    seeds is told by the failed and timed-out counts, not by a smaller n_ok alone. Read from
    the committed page, which the test above holds to what the code writes."""
    page = (Path(__file__).resolve().parents[1] / "reports" / "index.html").read_text()
    table2 = page[page.index('id="table2"'):]
    table2 = table2[:table2.index("</table>")]
    for m in ("precision", "recall", "f1", "auprc", "best_f1_oracle"):
        for column in (m, f"{m}_ci_low", f"{m}_ci_high"):
            assert f"<th>{column}</th>" in table2, column
    for column in ("n_ok", "n_failed", "n_timeout", "n_skipped", "paper_f1_oracle"):
        assert f"<th>{column}</th>" in table2, column
