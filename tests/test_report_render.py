"""Rendering the management report: self-contained HTML, every chart present, both languages, CLI, no PII."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib import rc_context

from custml.cli import main
from custml.io import write_json, write_table
from custml.privacy import scan_for_pii
from custml.report import (
    ChromiumNotFoundError,
    build_report_data,
    plots,
    print_pdf,
    render_html,
    sample_previous_scores,
    sample_scores,
)
from custml.report import pdf as pdf_module
from custml.report.i18n import LABELS, VALUES, format_money, t, tv

CHARTS = {
    "segment-sizes",
    "segment-revenue",
    "lifecycle",
    "lifecycle-revenue",
    "segment-risk",
    "risk-histogram",
    "value-risk",
    "drivers",
    "calibration",
    "actions",
}


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    scores, meta = sample_scores(600, seed=11)
    return scores, meta, sample_previous_scores(scores, seed=12)


@pytest.fixture(scope="module")
def html_en(sample) -> str:
    scores, meta, prev = sample
    return render_html(build_report_data(scores, meta, prev), lang="en")


@pytest.fixture(scope="module")
def html_zh(sample) -> str:
    scores, meta, prev = sample
    return render_html(build_report_data(scores, meta, prev), lang="zh")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.charts: list[str] = []
        self.tags: Counter[str] = Counter()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "figure" and "data-chart" in a:
            self.charts.append(a["data-chart"])
        if tag in ("style", "svg"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "svg"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


def _parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def test_html_is_self_contained_without_scripts_or_remote_resources(html_en: str) -> None:
    assert html_en.startswith("<!DOCTYPE html>")
    assert "<script" not in html_en.lower()
    assert not re.search(r"<(link|img|iframe|object|embed)\b", html_en, re.I)
    assert "@import" not in html_en
    # the only URLs are XML namespaces inside the SVGs
    urls = set(re.findall(r"https?://[^\s\"')]+", html_en))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_every_chart_is_an_inline_svg_with_a_title(html_en: str) -> None:
    parsed = _parse(html_en)
    assert set(parsed.charts) == CHARTS | {"movement"}
    assert parsed.tags["svg"] == len(parsed.charts)
    for chart in parsed.charts:
        block = html_en.split(f'data-chart="{chart}"', 1)[1].split("</figure>", 1)[0]
        assert "<svg" in block and "<title>" in block and "<text" in block, chart


def test_element_ids_are_unique_across_charts(html_en: str) -> None:
    ids = _parse(html_en).ids
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup, dup[:5]


def test_english_report_shows_headline_numbers_and_plain_words(sample, html_en: str) -> None:
    scores, meta, _ = sample
    text = " ".join(_parse(html_en).text)
    assert f"{len(scores):,}" in text
    assert format_money(float(scores["revenue_at_risk"].sum()), "EUR", "en") in text
    capture = meta["models"]["churn"]["metrics"]["capture_top10"]
    assert f"The top 10% of customers by risk hold {100 * capture:.1f}% of the churners" in text
    assert "Predicted risks are" in text
    for heading in (
        "Customer segments",
        "Lifecycle stages",
        "Action list",
        "Data quality",
        "What drives churn",
    ):
        assert heading in text
    assert "Days since the last purchase" in text  # a driver, in plain words


def test_report_states_what_churn_means_and_how_the_horizon_is_chosen(html_en: str, html_zh: str) -> None:
    text_en, text_zh = " ".join(_parse(html_en).text), " ".join(_parse(html_zh).text)
    assert "Churn means leaving: no purchase within" in text_en and "horizon_days: auto" in text_en
    assert "流失指离开" in text_zh and "horizon_days: auto" in text_zh


def test_chinese_report_translates_every_label(html_zh: str) -> None:
    parsed = _parse(html_zh)
    text = " ".join(parsed.text)
    assert 'lang="zh-CN"' in html_zh
    for key in ("title", "sec_segments", "sec_actions", "sec_quality", "kpi_revenue_at_risk"):
        assert t(key, "zh") in text
    # No English label (fixed text, not data) leaks into the Chinese page, in the text or in the charts.
    leaked = [
        v
        for k, v in LABELS["en"].items()
        if "{" not in v and len(v) > 6 and v != LABELS["zh"][k] and v in html_zh
    ]
    assert not leaked, leaked
    for segment in ("Champions", "Cannot lose", "Hibernating"):
        assert tv(segment, "zh") in html_zh
        assert f">{segment}<" not in html_zh
    # chart text is kept as text so the browser draws Chinese with its own fonts
    assert "各分群客户数" in html_zh.split('data-chart="segment-sizes"', 1)[1].split("</figure>", 1)[0]
    assert "万" in text  # large amounts use the Chinese unit


def test_label_dictionaries_have_the_same_keys_and_placeholders() -> None:
    assert set(LABELS["en"]) == set(LABELS["zh"])
    for key, en in LABELS["en"].items():
        assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", LABELS["zh"][key])), key
    assert set(VALUES["en"]) <= set(VALUES["zh"])


def test_every_quarantine_reason_has_plain_words_in_both_languages() -> None:
    from custml.quality.validate import REASONS

    for reason in REASONS:
        assert reason in VALUES["en"] and reason in VALUES["zh"], reason
        assert "_" not in tv(reason, "en")


def test_render_is_deterministic_and_rejects_unknown_language(sample, html_en: str) -> None:
    scores, meta, prev = sample
    data = build_report_data(scores, meta, prev)
    assert render_html(data) == html_en  # a second render of the same data, to the byte
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        render_html(data, lang="fr")


def test_named_sections_render_alone_in_page_order_under_the_same_header(sample, html_en: str) -> None:
    from custml.report import SECTION_NAMES

    scores, meta, prev = sample
    data = build_report_data(scores, meta, prev)
    some = render_html(data, "en", sections={"segments", "headline"})
    assert 'id="kpis"' in some and 'id="segments"' in some and 'id="risk"' not in some
    assert some.index('id="kpis"') < some.index('id="segments"')
    # the same header, and the same section to the byte, as in the whole report; the contents list only it
    assert some.split('<nav class="toc"', 1)[0] == html_en.split('<nav class="toc"', 1)[0]
    toc = some.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert toc.count("<a href=") == 1 and 'href="#segments"' in toc
    segments = some.split('id="segments"', 1)[1].split("</section>", 1)[0]
    assert segments in html_en
    assert len(SECTION_NAMES) == len(set(SECTION_NAMES)) >= 13
    with pytest.raises(ValueError, match="unknown report section 'kpi'; choose among headline, summary"):
        render_html(data, sections={"kpi"})
    with pytest.raises(ValueError, match="no report section named"):
        render_html(data, sections=[])
    # one name as a string, or any iterable of names (read once)
    alone = render_html(data, "en", "segments")
    assert alone == render_html(data, "en", (name for name in ["segments"])) and 'id="segments"' in alone
    assert 'id="kpis"' not in alone


def test_report_without_previous_or_meta_still_renders(sample) -> None:
    scores, _, _ = sample
    html = render_html(build_report_data(scores, None), lang="en")
    parsed = _parse(html)
    assert "movement" not in parsed.charts and "calibration" not in parsed.charts
    assert "The scoring run did not record model quality." in html
    assert "The scoring run did not record churn drivers." in html


def test_plot_functions_return_figures_and_svg_keeps_text() -> None:
    with rc_context(plots.chart_style()):
        fig = plots.plot_bars(
            pd.Series({"Loyal": 3.0, "Lost": 1.0}), title="Customers by segment", axis_label="n"
        )
        svg = plots.figure_to_svg(fig, id_prefix="t1", title="Customers by segment")
    assert fig.get_suptitle() == "Customers by segment"
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert "Customers by segment</text>" in svg or ">Customers by segment<" in svg
    assert all(i.startswith("t1-") for i in re.findall(r'\bid="([^"]+)"', svg))


def test_report_package_reads_scores_never_models() -> None:
    """Architecture rule: importing and running the report never loads the model (or MLflow) packages."""
    code = (
        "import sys; from custml.report import build_report_data, render_html, sample_scores; "
        "render_html(build_report_data(*sample_scores(50, seed=0))); "
        "bad = sorted(m for m in sys.modules if m.startswith(('custml.models', 'custml.scoring', 'mlflow', "
        "'lightgbm', 'custml.tracking'))); print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def fake_raw_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C0001", "C0002", "C0003"],
            "name": ["Margaret Thornbury", "Oskar Lindqvist", "王秀英"],
            "email": [
                "margaret.thornbury@example.com",
                "oskar.l+shop@example.org",
                "wang.xiuying@example.cn",
            ],
            "phone": ["+44 20 7946 0958", "+46 8 555 123 45", "+86 138 0013 8000"],
        }
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_contains_no_personal_data(tmp_path: Path, sample, lang: str) -> None:
    scores, meta, prev = sample
    raw = fake_raw_customers()
    # Even if a scores file carried stray PII columns, the report shows only its own whitelist of columns.
    leaky = scores.copy()
    n = len(raw)
    leaky["email"] = [raw["email"][i % n] for i in range(len(leaky))]
    leaky["phone"] = [raw["phone"][i % n] for i in range(len(leaky))]
    leaky["name"] = [raw["name"][i % n] for i in range(len(leaky))]
    html = render_html(build_report_data(leaky, meta, prev), lang=lang)
    out = tmp_path / f"report-{lang}.html"
    out.write_text(html, encoding="utf-8")
    result = scan_for_pii(out, raw, generic=True)
    assert not result.found, result.summary()
    for value in (*raw["email"], *raw["name"], "7946"):
        assert value not in html


def test_scanner_would_catch_pii_in_a_report(tmp_path: Path) -> None:
    """Guard that the previous test can fail: the same scan flags a report page that leaks an e-mail."""
    raw = fake_raw_customers()
    out = tmp_path / "leak.html"
    out.write_text(f"<html><body><td>{raw['email'][0]}</td><td>{raw['name'][1]}</td></body></html>")
    assert scan_for_pii(out, raw).found


def write_scores(folder: Path, n: int = 300, seed: int = 5, meta_name: str = "scores.meta.json") -> Path:
    scores, meta = sample_scores(n, seed=seed)
    path = write_table(scores, folder / "scores.parquet")
    write_json(meta, folder / meta_name)
    write_table(sample_previous_scores(scores, seed=seed + 1), folder / "previous.parquet")
    return path


def test_cli_writes_report_and_prints_its_path(tmp_path: Path, capsys) -> None:
    scores = write_scores(tmp_path)
    out = tmp_path / "reports" / "customer-report.html"
    code = main(
        [
            "report",
            "--scores",
            str(scores),
            "--previous",
            str(tmp_path / "previous.parquet"),
            "--out",
            str(out),
            "--lang",
            "zh",
        ]
    )
    assert code == 0
    assert str(out) in capsys.readouterr().out.replace("\n", "")
    html = out.read_text(encoding="utf-8")
    assert "客户报告" in html and 'data-chart="movement"' in html


def test_cli_accepts_meta_named_after_the_full_file_name(tmp_path: Path) -> None:
    scores = write_scores(tmp_path, meta_name="scores.parquet.meta.json")
    assert main(["report", "--scores", str(scores), "--out", str(tmp_path / "r.html")]) == 0


def test_cli_fails_clearly_without_meta_or_with_bad_language(tmp_path: Path, capsys) -> None:
    scores, _ = sample_scores(50, seed=1)
    path = write_table(scores, tmp_path / "scores.parquet")
    assert main(["report", "--scores", str(path), "--out", str(tmp_path / "r.html")]) == 2
    assert "no meta file beside" in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "r.html").exists()
    write_json({}, tmp_path / "scores.meta.json")
    assert main(["report", "--scores", str(path), "--out", str(tmp_path / "r.html"), "--lang", "fr"]) == 2


def test_cli_missing_scores_file_is_a_named_error(tmp_path: Path, capsys) -> None:
    assert (
        main(["report", "--scores", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "r.html")]) == 2
    )
    assert "scores: file not found" in capsys.readouterr().err.replace("\n", " ")


def test_pdf_without_chromium_raises_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    html = tmp_path / "r.html"
    html.write_text("<html></html>")
    monkeypatch.setattr(pdf_module.shutil, "which", lambda name: None)
    with pytest.raises(ChromiumNotFoundError, match="no Chromium found on PATH"):
        print_pdf(html, tmp_path / "r.pdf")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_headline_churn_is_the_models_expectation_beside_the_same_season_a_year_earlier(sample, lang) -> None:
    scores, meta, _ = sample
    outlook = {
        "population": 400,
        "expected_rate": 0.4321,
        "horizon_days": 90,
        "history_days": 900,
        "short_history": False,
        "same_season_last_year": {"cutoff": "2024-09-30", "realised_rate": 0.5123, "population": 380},
    }
    data = build_report_data(scores, {**meta, "churn_outlook": outlook})
    assert data.outlook is not None and data.outlook.same_season_last_year.realised_rate == pytest.approx(
        0.5123
    )
    assert data.model_messages[0].key == "msg_outlook_last_year"
    html = render_html(data, lang=lang, sections={"headline", "summary", "model"})
    assert "43.2" in html and "51.2" in html
    assert t("kpi_churn_rate_last_year", lang, rate="51.2%").split("51.2")[0].strip("；; ") in html
    # a short history says so, and shows no year-earlier rate
    short = {**outlook, "short_history": True, "same_season_last_year": None}
    data = build_report_data(scores, {**meta, "churn_outlook": short})
    assert data.model_messages[0].key == "msg_outlook_short_history"
    assert t("msg_outlook_short_history", lang, days=90)[:20] in render_html(
        data, lang=lang, sections={"headline", "summary", "model"}
    )
    # scores written before the outlook existed: the headline is the active customers' mean, as before
    assert build_report_data(scores, meta).outlook is None
