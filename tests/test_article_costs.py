"""The article's cost table, reproduced from its own scenario through the real store."""

from __future__ import annotations

import pytest
from fixtures_analytics import article_records, build_store

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report


@pytest.fixture(scope="module")
def article_costs(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("article"), article_records())
    with open_store(db) as con:
        return build_report(con, "costs", load_config(None), Filters())


def test_the_article_table(article_costs):
    c = article_costs
    # 500 tasks a day for 30 days (1 March to 30 March, inclusive)
    assert c["days"] == 30 and c["tasks"] == 15_000
    # a day's tokens: 500 x 2,000 = 1M input, 500 x 500 = 0.25M output
    # all-Haiku:  1M x $0.80 + 0.25M x $4  = $0.80 + $1.00  = $1.80
    # all-Sonnet: 1M x $3    + 0.25M x $15 = $3.00 + $3.75  = $6.75
    # all-Opus:   1M x $15   + 0.25M x $75 = $15.00 + $18.75 = $33.75
    per_day = c["counterfactual_usd_per_day"]
    assert per_day["haiku"] == pytest.approx(1.80)
    assert per_day["sonnet"] == pytest.approx(6.75)
    assert per_day["opus"] == pytest.approx(33.75)
    # routed: 400 Haiku: 0.8M x $0.80 + 0.2M x $4 = $1.44
    #          75 Sonnet: 0.15M x $3 + 0.0375M x $15 = $0.45 + $0.5625 = $1.0125
    #          25 Opus: 0.05M x $15 + 0.0125M x $75 = $0.75 + $0.9375 = $1.6875
    #          total $1.44 + $1.0125 + $1.6875 = $4.14 a day
    assert c["realized_usd_per_day"] == pytest.approx(4.14)
    assert c["realized_usd"] == pytest.approx(4.14 * 30)
    # per month = per day x 30: $54, $202.50, $1,012.50 and $124.20 (the article's ~$54,
    # ~$202, ~$1,013, ~$124)
    assert c["counterfactual_usd_per_month"]["haiku"] == pytest.approx(54.0)
    assert c["counterfactual_usd_per_month"]["sonnet"] == pytest.approx(202.5)
    assert c["counterfactual_usd_per_month"]["opus"] == pytest.approx(1012.5)
    assert c["realized_usd_per_month"] == pytest.approx(124.2)
    # savings: 1 - 4.14 / 33.75 = 0.87733 (87.7%); 1 - 4.14 / 6.75 = 0.38667 (38.7%; the
    # article prints 38.6%); against all-Haiku routing costs more: 1 - 4.14 / 1.80 = -1.3
    assert round(c["savings_vs"]["opus"], 4) == 0.8773
    assert round(c["savings_vs"]["sonnet"], 4) == 0.3867
    assert c["savings_vs"]["haiku"] == pytest.approx(-1.3)
    # ~$78 a month against all-Sonnet: (6.75 - 4.14) x 30 = $78.30
    assert c["savings_usd_per_month_vs"]["sonnet"] == pytest.approx(78.3)
    # no planner or reviewer calls, everything priced
    assert c["overhead_usd"] == {"planner": 0.0, "reviewer": 0.0}
    assert c["unpriced_attempts"] == 0


def test_the_article_table_as_text(article_costs):
    text = render_text("costs", article_costs)
    assert "$1.80" in text and "$6.75" in text and "$33.75" in text and "$4.14" in text
    assert "87.7%" in text and "38.7%" in text
