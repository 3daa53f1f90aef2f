"""One great-tables table per report section: each function takes mart frames, returns a GT.

Functions named `*_frame` build the table's data (tested against the marts); the GT functions
add titles, number formats and colour scales.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from great_tables import GT, from_column, loc, style

# Colour-blind-safe qualitative palette (Okabe-Ito, then Tableau): segment i gets colour i,
# in the charts and in the swatches of the tables alike.
SEGMENT_COLOURS = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF",
)
BLUES = ["#f7fbff", "#9ecae1", "#2171b5"]
GREENS = ["#f7fcf5", "#a1d99b", "#238b45"]
REDS = ["#fff5f0", "#fc9272", "#cb181d"]
DIVERGING = ["#2166ac", "#f7f7f7", "#b2182b"]  # below the mean, at it, above it
MISSING = "—"
RENAMED = " (renamed)"

K_METRICS = (  # column, label, which way is better, decimals
    ("inertia", "Inertia (elbow)", "lower, with diminishing returns", 0),
    ("silhouette", "Silhouette", "higher", 3),
    ("davies_bouldin", "Davies-Bouldin", "lower", 3),
    ("calinski_harabasz", "Calinski-Harabasz", "higher", 0),
)

DATA_SOURCES = ("customers", "transactions", "campaigns", "campaign_contacts")


def segment_colours(segment_ids: list[int]) -> dict[int, str]:
    """A colour per segment, assigned in ascending id order (stable for a given set of ids)."""
    ordered = sorted(segment_ids)
    return {sid: SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)] for i, sid in enumerate(ordered)}


def segment_names(segment_ids: list[int], segments: pd.DataFrame) -> dict[int, str]:
    """Segment id -> name from dim_segments."""
    names = dict(zip(segments["segment_id"], segments["segment_name"], strict=True))
    return {int(sid): str(names[sid]) for sid in segment_ids}


def with_header(table: GT, title: str, subtitle: str, source: str) -> GT:
    """Title, subtitle, source note and the report's shared table options."""
    return (
        table.tab_header(title=title, subtitle=subtitle)
        .tab_source_note(source)
        .tab_options(
            table_font_size="14px",
            heading_title_font_size="18px",
            heading_align="left",
            column_labels_font_weight="bold",
            row_group_font_weight="bold",
            data_row_padding="4px",
        )
    )


def symmetric_domain(values: pd.Series, centre: float = 0.0) -> list[float]:
    """[centre - m, centre + m] covering every value, so the middle colour sits at centre."""
    spread = float((values.dropna() - centre).abs().max()) if values.notna().any() else 1.0
    spread = spread or 1.0
    return [centre - spread, centre + spread]


# --- segment overview -------------------------------------------------------------------------


def overview_frame(profiles: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """One row per segment, largest first: name (marked when a person renamed it), size, shares,
    revenue and key traits."""
    ids = [int(sid) for sid in profiles["segment_id"]]
    names = segment_names(ids, segments)
    colours = segment_colours(ids)
    by_id = segments.set_index("segment_id")
    renamed = {int(sid) for sid in by_id.index[by_id["name_source"] == "override"]}
    traits = by_id["traits"].fillna("").str.replace("; ", "\n").replace("", MISSING)
    frame = pd.DataFrame({
        "swatch": "■",
        "colour": [colours[sid] for sid in ids],
        "segment_id": ids,
        "segment_name": [names[sid] + (RENAMED if sid in renamed else "") for sid in ids],
        "customers": profiles["customers"].astype("int64").to_numpy(),
        "customer_share": profiles["customer_share"].to_numpy(),
        "revenue": profiles["revenue"].to_numpy(),
        "revenue_share": profiles["revenue_share"].to_numpy(),
        "avg_monetary": profiles["avg_monetary"].to_numpy(),
        "purchaser_share": profiles["purchaser_share"].to_numpy(),
        "traits": [traits[sid] for sid in ids],
    })
    return frame.sort_values(["customers", "segment_id"], ascending=[False, True],
                             ignore_index=True)


def overview_table(profiles: pd.DataFrame, segments: pd.DataFrame) -> GT:
    frame = overview_frame(profiles, segments)
    renamed_note = (
        f"{RENAMED.strip()}: named in seeds/reference/segment_name_overrides.csv, not generated."
        if frame["segment_name"].str.endswith(RENAMED).any() else ""
    )
    table = (
        GT(frame, id="overview")
        .cols_hide("colour")
        .cols_label(
            swatch="", segment_id="Id", segment_name="Segment", customers="Customers",
            customer_share="Share of customers", revenue="Revenue",
            revenue_share="Share of revenue", avg_monetary="Revenue per customer",
            purchaser_share="Buyers", traits="Key traits (vs the average customer)",
        )
        .fmt_integer(columns=["customers"])
        .fmt_percent(columns=["customer_share", "revenue_share", "purchaser_share"], decimals=1)
        .fmt_number(columns=["revenue", "avg_monetary"], decimals=0)
        .data_color(columns=["customer_share"], palette=BLUES, domain=[0, 1])
        .data_color(columns=["revenue_share"], palette=GREENS, domain=[0, 1])
        .tab_style(style.text(color=from_column("colour"), size="20px"), loc.body(columns="swatch"))
        .tab_style(style.text(weight="bold"), loc.body(columns="segment_name"))
        .tab_style(style.text(whitespace="pre-line", size="12px"), loc.body(columns="traits"))
    )
    return with_header(
        table,
        "Segment overview",
        f"{len(frame)} segments of {int(frame['customers'].sum()):,} customers, largest first",
        f"Source: segment_profiles (sizes, revenue); names and traits: dim_segments. "
        f"{renamed_note}",
    )


# --- profile heatmap --------------------------------------------------------------------------


SCALER_UNITS = {  # scaler -> the unit of a scaled value, as dim_segments' traits write it
    "standard": "SD",
    "robust": "IQR",
}


def scaler_unit(scaler: str) -> str:
    """The unit of a scaled centroid: 'SD' with the standard scaler, 'IQR' with the robust one."""
    return SCALER_UNITS[str(scaler)]


def heatmap_groups(scaler: str) -> tuple[str, str]:
    """The heatmap's two row groups, each naming what its cells measure and in which unit."""
    return (
        f"Clustering features: segment centre, in {scaler_unit(scaler)} of the prepared feature",
        "Other features (not clustered on): segment mean, in SD of the raw values",
    )


def round_like_sql(values: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """Rounded as DuckDB's round() rounds the numbers in dim_segments' traits: the exact binary
    value, ties away from zero (Python's formatting rounds ties to even: 0.25 -> 0.2, SQL 0.3),
    so a cell never shows a tie rounded the other way. Nulls stay null; -0.0 becomes 0.0."""
    step = Decimal(1).scaleb(-decimals)

    def rounded(value: float) -> float:
        if pd.isna(value):
            return value
        return float(Decimal(float(value)).quantize(step, rounding=ROUND_HALF_UP)) + 0.0

    return values.map(rounded)


def heatmap_frame(
    feature_profiles: pd.DataFrame, centroids: pd.DataFrame, scaler: str
) -> pd.DataFrame:
    """One row per feature, one column `s<id>` per segment, rounded to the one decimal shown, in
    two groups measured differently. The clustering features (those in segment_centroids) come
    first and hold the segment's scaled centroid: the distance from the average customer that
    dim_segments' names and traits use (the prepared feature, in scaler units). The other
    features hold the segment mean minus the overall mean in the raw values' standard
    deviations (segment_feature_profiles.mean_diff_sd)."""
    clustering = set(centroids["feature"])
    ids = sorted({int(sid) for sid in feature_profiles["segment_id"]}
                 | {int(sid) for sid in centroids["segment_id"]})
    columns = [f"s{sid}" for sid in ids]
    centres = centroids.pivot(index="feature", columns="segment_id", values="centroid_scaled")
    others = feature_profiles[~feature_profiles["feature"].isin(clustering)].pivot(
        index="feature", columns="segment_id", values="mean_diff_sd")
    wide = pd.concat([centres, others])
    wide.columns = [f"s{int(sid)}" for sid in wide.columns]
    wide = round_like_sql(wide.reindex(columns=columns).astype("float64"))
    per_feature = feature_profiles.groupby("feature").agg(
        overall_mean=("overall_mean", "first"), feature_label=("feature_label", "first"))
    labels = centroids.groupby("feature")["feature_label"].first()
    frame = wide.join(per_feature).rename_axis("feature").reset_index()
    frame["feature_label"] = frame["feature_label"].fillna(frame["feature"].map(labels))
    frame["is_clustering_feature"] = frame["feature"].isin(clustering)
    clustering_group, other_group = heatmap_groups(scaler)
    frame["group"] = frame["is_clustering_feature"].map({True: clustering_group,
                                                         False: other_group})
    frame = frame.sort_values(["is_clustering_feature", "feature"], ascending=[False, True])
    return frame[["group", "feature", "feature_label", "overall_mean", *columns]].reset_index(
        drop=True)


def heatmap_table(feature_profiles: pd.DataFrame, centroids: pd.DataFrame,
                  segments: pd.DataFrame, runs: pd.DataFrame) -> GT:
    scaler = str(latest_run(runs)["scaler"])
    unit = scaler_unit(scaler)
    frame = heatmap_frame(feature_profiles, centroids, scaler)
    segment_columns = [column for column in frame.columns if column.startswith("s")]
    names = segment_names([int(column[1:]) for column in segment_columns], segments)
    table = (
        GT(frame, rowname_col="feature_label", groupname_col="group", id="heatmap")
        .cols_hide("feature")
        .cols_label(overall_mean="Overall mean (own units)",
                    **{column: names[int(column[1:])] for column in segment_columns})
        .fmt_number(columns="overall_mean", n_sigfig=3)
        .fmt_number(columns=segment_columns, decimals=1, force_sign=True)
        .sub_missing(columns=segment_columns, missing_text=MISSING)
        .cols_align("center", columns=segment_columns)
    )
    for group in heatmap_groups(scaler):  # one colour scale per unit
        rows = frame.index[frame["group"] == group].tolist()
        if rows:
            domain = symmetric_domain(frame.loc[rows, segment_columns].stack())
            table = table.data_color(columns=segment_columns, rows=rows, palette=DIVERGING,
                                     domain=domain, na_color="#ffffff")
    centre = "mean and SD" if scaler == "standard" else "median and IQR"
    return with_header(
        table,
        "Profile heatmap",
        f"How far each segment sits from the average customer (0): red above, blue below. "
        f"Clustering features show the segment centre in {unit}, the numbers in the segment "
        f"names and traits; other features the segment mean in SD of the raw values",
        f"Source: segment_centroids (centroid_scaled) for the clustering features: the segment "
        f"centre on the feature as the clustering saw it (winsorized, missing values imputed, "
        f"log1p where configured, then scaled by the {scaler} scaler: {centre} of the fit "
        f"sample), the distance dim_segments names and describes segments by. "
        f"segment_feature_profiles (mean_diff_sd) for the other features: (segment mean - "
        f"overall mean) / overall SD of the raw values. The units differ, so each group has its "
        f"own colour scale.",
    )


def level_shares_frame(level_shares: pd.DataFrame) -> pd.DataFrame:
    """One row per level of each categorical clustering feature (in the fit's level order),
    one column `s<id>` per segment with the segment's share of customers at that level, and
    the level's overall share."""
    wide = level_shares.pivot(index="level_order", columns="segment_id", values="share")
    wide.columns = [f"s{int(sid)}" for sid in wide.columns]
    levels = level_shares.groupby("level_order")[["feature", "level", "overall_share"]].first()
    frame = levels.join(wide).reset_index(drop=True)
    frame["level"] = frame["level"].astype(str)
    return frame


def level_shares_table(level_shares: pd.DataFrame, segments: pd.DataFrame) -> GT:
    frame = level_shares_frame(level_shares)
    segment_columns = [column for column in frame.columns if column.startswith("s")
                       and column[1:].isdigit()]
    names = segment_names([int(column[1:]) for column in segment_columns], segments)
    table = (
        GT(frame, rowname_col="level", groupname_col="feature", id="level-shares")
        .cols_label(overall_share="All customers",
                    **{column: names[int(column[1:])] for column in segment_columns})
        .fmt_percent(columns=["overall_share", *segment_columns], decimals=0)
        .data_color(columns=segment_columns, palette=BLUES, domain=[0, 1])
        .cols_align("center", columns=segment_columns)
    )
    return with_header(
        table,
        "Categorical features",
        "Each segment's share of customers at each level, e.g. 78% of a segment gold members",
        "Source: segment_level_shares (levels as the fit learned them: 'missing' for no value, "
        "'other' for the rare values grouped by var min_level_share).",
    )


# --- feature distributions --------------------------------------------------------------------


def histogram_shapes(histograms: pd.DataFrame) -> pd.Series:
    """(feature, segment_id) -> the bin counts as space-separated values, in bin order."""
    ordered = histograms.sort_values(["feature", "segment_id", "bin_number"])
    return ordered.groupby(["feature", "segment_id"])["customers"].agg(
        lambda counts: " ".join(str(int(count)) for count in counts)
    )


def distributions_frame(
    distributions: pd.DataFrame, histograms: pd.DataFrame, segments: pd.DataFrame
) -> pd.DataFrame:
    """One row per feature and segment with values: quartiles, and the histogram's bin counts
    that its nanoplot draws. A segment none of whose customers has the feature (e.g. a
    purchase feature of a customers-only input) has no histogram and no row."""
    ids = [int(sid) for sid in distributions["segment_id"].unique()]
    names = segment_names(ids, segments)
    frame = distributions[distributions["customers"] > 0].copy()
    frame["segment"] = [names[int(sid)] for sid in frame["segment_id"]]
    shapes = histogram_shapes(histograms)
    keys = zip(frame["feature"], frame["segment_id"], strict=True)
    frame["shape"] = [shapes[key] for key in keys]
    frame = frame.sort_values(["feature", "segment_id"], ignore_index=True)
    return frame[["feature", "feature_label", "segment_id", "segment", "customers", "mean",
                  "p25", "median", "p75", "shape"]]


def distributions_table(
    distributions: pd.DataFrame, histograms: pd.DataFrame, segments: pd.DataFrame
) -> GT:
    frame = distributions_frame(distributions, histograms, segments)
    table = (
        GT(frame, rowname_col="segment", groupname_col="feature_label", id="distributions")
        .cols_hide(["feature", "segment_id"])
        .cols_label(customers="Customers", mean="Mean", p25="25th pct", median="Median",
                    p75="75th pct", shape="Distribution")
        .fmt_integer(columns="customers")
        .fmt_number(columns=["mean", "p25", "median", "p75"], n_sigfig=3)
        .fmt_nanoplot(columns="shape", plot_type="bar")
    )
    for feature in frame["feature"].unique():  # one colour scale per feature (own units)
        rows = frame.index[frame["feature"] == feature].tolist()
        table = table.data_color(columns="median", rows=rows, palette=BLUES)
    return with_header(
        table,
        "Feature distributions per segment",
        "Where a segment's customers lie on each feature, in the feature's own units",
        "Source: segment_feature_distributions. Distribution: customers per bin, bins shared "
        "by all segments of a feature (segment_feature_histograms).",
    )


# --- K selection ------------------------------------------------------------------------------


def k_column(k: int) -> str:
    return f"k{int(k)}"


def k_selection_frame(k_selection: pd.DataFrame) -> pd.DataFrame:
    """One row per quality metric, one column per K, and the metric's curve over K."""
    ordered = k_selection.sort_values("k")
    rows = []
    for column, label, better, _ in K_METRICS:
        values = ordered[column].to_numpy()
        row = {"metric": label, "better": better}
        row.update({k_column(k): value for k, value in zip(ordered["k"], values, strict=True)})
        row["curve"] = " ".join(f"{value:.6g}" for value in values)
        rows.append(row)
    return pd.DataFrame(rows)


def k_selection_table(k_selection: pd.DataFrame) -> GT:
    frame = k_selection_frame(k_selection)
    ks = sorted(int(k) for k in k_selection["k"])
    chosen = [int(k) for k in k_selection.loc[k_selection["is_chosen"], "k"]]
    k_columns = [k_column(k) for k in ks]
    labels = {k_column(k): f"K = {k}" + (" (chosen)" if k in chosen else "") for k in ks}
    table = (
        GT(frame, rowname_col="metric", id="k_selection")
        .cols_label(better="Better", curve="Curve over K", **labels)
        .fmt_nanoplot(columns="curve", plot_type="line")
    )
    for row, (column, _, better, decimals) in enumerate(K_METRICS):
        table = table.fmt_number(columns=k_columns, rows=[row], decimals=decimals)
        if column != "inertia":
            table = table.data_color(columns=k_columns, rows=[row], palette=GREENS,
                                     reverse=better == "lower", direction="row")
    for k in chosen:
        table = table.tab_style(
            [style.borders(sides=["left", "right"], color="#cb181d", weight="3px"),
             style.text(weight="bold")],
            loc.body(columns=k_column(k)),
        ).tab_style(style.text(weight="bold", color="#cb181d"), loc.column_labels(k_column(k)))
    chosen_text = ", ".join(str(k) for k in chosen) or "none"
    return with_header(
        table,
        "Choosing K",
        f"Fit quality for every K tried; K = {chosen_text} was chosen (framed)",
        "Source: segment_k_selection. Colours run from worse (light) to better (green) per "
        "metric; inertia always falls with K, look for the elbow.",
    )


# --- segment rules ----------------------------------------------------------------------------


def latest_run(runs: pd.DataFrame) -> pd.Series:
    """The run whose fit the marts show (is_latest)."""
    return runs[runs["is_latest"]].sort_values("run_number").iloc[-1]


def rules_frame(rules: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    ids = [int(sid) for sid in rules["segment_id"].unique()]
    names = segment_names(ids, segments)
    frame = rules.sort_values(["segment_id", "rule_number"], ignore_index=True).copy()
    frame["segment"] = [f"{int(sid)} · {names[int(sid)]}" for sid in frame["segment_id"]]
    return frame[["segment", "segment_id", "rule_number", "rule", "customers", "precision",
                  "recall"]]


def rules_table(rules: pd.DataFrame, runs: pd.DataFrame,
                segments: pd.DataFrame) -> GT:
    frame = rules_frame(rules, segments)
    run = latest_run(runs)
    accuracy = (
        f"The rules reproduce the segments for {run['rules_accuracy']:.1%} of customers "
        f"(macro F1 {run['rules_macro_f1']:.2f})"
        if pd.notna(run["rules_accuracy"])
        else "The latest run has no rule accuracy"
    )
    table = (
        GT(frame, groupname_col="segment", id="rules")
        .cols_hide("segment_id")
        .cols_label(rule_number="#", rule="Rule", customers="Customers matched",
                    precision="Precision", recall="Recall")
        .fmt_integer(columns="customers")
        .fmt_percent(columns=["precision", "recall"], decimals=0)
        .data_color(columns=["precision", "recall"], palette=GREENS, domain=[0, 1])
        .tab_style(style.text(font="ui-monospace, Menlo, Consolas, monospace", size="12px"),
                   loc.body(columns="rule"))
    )
    return with_header(
        table,
        "Segment rules",
        accuracy,
        "Source: segment_rules and segment_runs. Precision: share of the customers a rule "
        "matches that are in the segment; recall: share of the segment the rule covers.",
    )


def importance_table(importance: pd.DataFrame) -> GT:
    frame = importance.sort_values(["tree_importance", "feature"], ascending=[False, True])
    frame = frame[["feature_label", "variance_explained", "tree_importance"]]
    table = (
        GT(frame.reset_index(drop=True), rowname_col="feature_label", id="importance")
        .cols_label(variance_explained="Variance explained by segment",
                    tree_importance="Importance in the rules")
        .fmt_percent(columns=["variance_explained", "tree_importance"], decimals=0)
        .data_color(columns=["variance_explained", "tree_importance"], palette=BLUES,
                    domain=[0, 1])
    )
    return with_header(
        table,
        "What separates the segments",
        "How much of each feature's variance the segments explain, and its weight in the rules",
        "Source: segment_feature_importance.",
    )


# --- campaigns --------------------------------------------------------------------------------


def offer_label(offer_type: str) -> str:
    return offer_type.replace("_", " ").capitalize()


def offer_summary_frame(offer_response: pd.DataFrame) -> pd.DataFrame:
    """Per offer type, the segment segment_offer_response marks as its best responder."""
    best = offer_response[offer_response["is_best_responder"]].sort_values("offer_type")
    best = best.reset_index(drop=True)
    best["offer"] = best["offer_type"].map(offer_label)
    best["verdict"] = [
        "Clearly better than everyone contacted" if lower > 1
        else "No segment clearly better"
        for lower in best["lift_ci_lower"]
    ]
    best["campaigns_note"] = [
        f"{better} of {n} campaign{'s' if n > 1 else ''}"
        for better, n in zip(best["campaigns_clearly_better"], best["campaigns"], strict=True)
    ]
    return best[["offer", "offer_type", "segment_name", "response_rate", "offer_response_rate",
                 "lift", "lift_ci_lower", "verdict", "campaigns_note"]]


def offer_summary_table(offer_response: pd.DataFrame) -> GT:
    frame = offer_summary_frame(offer_response)
    clear = frame.index[frame["lift_ci_lower"] > 1].tolist()
    table = (
        GT(frame, rowname_col="offer", id="offer_summary")
        .cols_hide("offer_type")
        .cols_label(segment_name="Responds best", response_rate="Its response rate",
                    offer_response_rate="All contacted", lift="Lift",
                    lift_ci_lower="Lift, lower 95% bound", verdict="Verdict",
                    campaigns_note="Clearly better in")
        .fmt_percent(columns=["response_rate", "offer_response_rate"], decimals=1)
        .fmt_number(columns=["lift", "lift_ci_lower"], decimals=2)
        .data_color(columns="lift_ci_lower", palette=DIVERGING[::-1],
                    domain=symmetric_domain(frame["lift_ci_lower"], centre=1.0),
                    na_color="#ffffff")
        .tab_style(style.text(weight="bold"), loc.body(columns="segment_name", rows=clear))
    )
    return with_header(
        table,
        "Who responds best, per offer type",
        "The segment with the highest lower 95% bound on its response rate, pooled over the "
        "offer type's campaigns (the segment analyses/campaign_targets picks)",
        "Source: segment_offer_response (is_best_responder). Lift above 1: the segment "
        "responds better than everyone contacted; bold when even the lower bound is above 1.",
    )


def campaign_frame(performance: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign and segment, grouped under the campaign, oldest campaign first."""
    frame = performance.sort_values(["campaign_start_date", "campaign_id", "segment_id"],
                                    ignore_index=True).copy()
    frame["campaign"] = [
        f"{row.campaign_name} · {offer_label(row.offer_type)} by {row.channel} · "
        f"{row.campaign_start_date:%Y-%m-%d} · {int(row.campaign_responded):,} of "
        f"{int(row.campaign_contacted):,} responded ({row.campaign_response_rate:.1%})"
        for row in frame.itertuples()
    ]
    frame["response_ci"] = [
        f"{low:.1%} – {high:.1%}" if pd.notna(low) and pd.notna(high) else MISSING
        for low, high in zip(frame["response_rate_ci_lower"], frame["response_rate_ci_upper"],
                             strict=True)
    ]
    frame["lift_ci"] = [
        f"{low:.2f} – {high:.2f}" if pd.notna(low) and pd.notna(high) else MISSING
        for low, high in zip(frame["lift_ci_lower"], frame["lift_ci_upper"], strict=True)
    ]
    return frame[["campaign", "segment_name", "segment_id", "contacted", "responded",
                  "response_rate", "response_ci", "revenue_per_contact", "lift", "lift_ci",
                  "lift_ci_lower"]]


def campaign_table(performance: pd.DataFrame) -> GT:
    frame = campaign_frame(performance)
    clear = frame.index[frame["lift_ci_lower"] > 1].tolist()
    table = (
        GT(frame, rowname_col="segment_name", groupname_col="campaign", id="campaigns")
        .cols_hide(["segment_id", "lift_ci_lower"])
        .cols_label(contacted="Contacted", responded="Responded", response_rate="Response rate",
                    response_ci="95% interval", revenue_per_contact="Revenue per contact",
                    lift="Lift", lift_ci="Lift 95% interval")
        .fmt_integer(columns=["contacted", "responded"])
        .fmt_percent(columns="response_rate", decimals=1)
        .fmt_number(columns="revenue_per_contact", decimals=2)
        .fmt_number(columns="lift", decimals=2)
        .sub_missing(columns=["response_rate", "lift", "revenue_per_contact"],
                     missing_text=MISSING)
        .data_color(columns="lift", palette=DIVERGING[::-1],
                    domain=symmetric_domain(frame["lift"], centre=1.0), na_color="#ffffff")
        .tab_style(style.text(weight="bold"), loc.stub(rows=clear))
    )
    return with_header(
        table,
        "Campaign response by segment",
        "Lift: the segment's response rate over the campaign's (above 1: responds better)",
        "Source: segment_campaign_performance. Bold: the lift's lower 95% bound is above 1.",
    )


# --- data quality -----------------------------------------------------------------------------


def data_quality_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per input and outcome (accepted first, then reject reasons by size), grouped
    under a label with the input's raw row count."""
    frame = summary.copy()
    frame["outcome"] = frame["reason"].fillna("accepted")
    frame["is_accepted"] = frame["reason"].isna()
    raw = frame.groupby("source")["rows"].transform("sum")
    frame["group"] = [f"{source} · {int(total):,} raw rows"
                      for source, total in zip(frame["source"], raw, strict=True)]
    source_order = {source: i for i, source in enumerate(DATA_SOURCES)}
    frame["source_order"] = frame["source"].map(source_order).fillna(len(DATA_SOURCES))
    frame = frame.sort_values(["source_order", "source", "is_accepted", "rows", "outcome"],
                              ascending=[True, True, False, False, True], ignore_index=True)
    return frame[["group", "source", "outcome", "is_accepted", "rows", "share_of_source"]]


def data_quality_table(summary: pd.DataFrame) -> GT:
    frame = data_quality_frame(summary)
    rejected = frame.index[~frame["is_accepted"]].tolist()
    accepted = frame.index[frame["is_accepted"]].tolist()
    max_reject_share = float(frame.loc[rejected, "share_of_source"].max()) if rejected else 1.0
    table = (
        GT(frame, rowname_col="outcome", groupname_col="group", id="data_quality")
        .cols_hide(["source", "is_accepted"])
        .cols_label(rows="Rows", share_of_source="Share of the input")
        .fmt_integer(columns="rows")
        .fmt_percent(columns="share_of_source", decimals=2)
        .tab_style(style.text(weight="bold", color="#238b45"), loc.stub(rows=accepted))
    )
    if rejected:
        table = table.data_color(columns="share_of_source", rows=rejected, palette=REDS,
                                 domain=[0, max_reject_share or 1.0])
    total_rejected = int(frame.loc[rejected, "rows"].sum())
    return with_header(
        table,
        "Data quality",
        f"Every raw row is accepted or rejected with its first failing check "
        f"({total_rejected:,} rejected in all)",
        "Source: data_quality_summary; rejected rows and their raw values are in stg_rejects.",
    )


# --- model health ------------------------------------------------------------------------------


def latest_of_runs(runs: pd.DataFrame) -> pd.Series:
    """The newest run, fit or score (is_latest_run)."""
    return runs[runs["is_latest_run"]].sort_values("run_number").iloc[-1]


def model_health_frame(runs: pd.DataFrame, outliers: int, customers: int) -> pd.DataFrame:
    """Item / value rows: what the latest build did and why, the fit in use and its age, the
    score runs since it, the latest run's drift checks over their threshold, the outliers."""
    run, fit = latest_of_runs(runs), latest_run(runs)
    scores = runs[(runs["run_type"] == "score") & (runs["fit_run_number"] == fit["run_number"])]
    age = run["fit_age_days"]
    checks = int(run["drift_checks"])
    items = [
        ("Latest build", f"{run['run_type']} run {int(run['run_number'])}: {run['reason']}"),
        ("Fit in use", f"run {int(fit['run_number'])}, data as of "
                       f"{pd.Timestamp(fit['as_of_date']).date()}, {int(fit['chosen_k'])} "
                       f"segments (refit {run['refit']})"),
        ("Fit age", MISSING if pd.isna(age) else f"{int(age)} day{'' if age == 1 else 's'}"),
        ("Score runs since the fit", f"{len(scores):,}"),
        ("Drift checks over threshold",
         f"{int(run['drifted_checks'])} of {checks}" if checks
         else "none made (no earlier fit to compare with)"),
        ("Outliers", f"{outliers:,} of {customers:,} customers "
                     f"({outliers / max(customers, 1):.1%})"),
    ]
    return pd.DataFrame(items, columns=["item", "value"])


def model_health_table(runs: pd.DataFrame, outliers: int, customers: int) -> GT:
    frame = model_health_frame(runs, outliers, customers)
    table = GT(frame, rowname_col="item", id="model_health").cols_label(value="")
    return with_header(
        table, "Model health", "Train once, score every build: the fit in use and how the "
        "customers compare with it", "Source: segment_runs, segment_drift, dim_customer_segments "
        "(is_outlier).")


def drift_frame(drift: pd.DataFrame) -> pd.DataFrame:
    """The latest run's drift checks: check, the fit's value and today's, value, threshold,
    status; most drifted (value over threshold) first."""
    latest = drift[drift["is_latest_run"]].copy()
    latest["ratio"] = latest["value"] / latest["threshold"]
    latest["status"] = latest["is_drifted"].map({True: "drifted", False: "ok"})
    latest = latest.sort_values(["ratio", "check_name"], ascending=[False, True])
    return latest[["check_name", "reference_value", "current_value", "value", "threshold",
                   "status"]].reset_index(drop=True)


def drift_table(drift: pd.DataFrame) -> GT:
    frame = drift_frame(drift)
    if frame.empty:
        frame = pd.DataFrame({"check_name": ["No drift checks: the latest build was the first "
                                             "fit"], "reference_value": [None],
                              "current_value": [None], "value": [None], "threshold": [None],
                              "status": [""]})
    drifted = frame.index[frame["status"] == "drifted"].tolist()
    table = (
        GT(frame, id="drift_checks")
        .cols_label(check_name="Check", reference_value="At fit", current_value="Now",
                    value="Value", threshold="Threshold", status="")
        .fmt_number(columns=["reference_value", "current_value", "value", "threshold"],
                    decimals=3)
        .sub_missing(columns=["reference_value", "current_value", "value", "threshold"],
                     missing_text=MISSING)
        .tab_style(style.fill(color="#fde0dd"), loc.body(rows=drifted))
    )
    return with_header(
        table, "Drift checks of the latest build", "PSI of each clustering feature against "
        "the fit's reference bins, each segment's share change, the mean distance ratio",
        "Source: segment_drift. Over its threshold, a check makes refit auto fit again.")


# --- run metadata -----------------------------------------------------------------------------


def run_warnings(run: pd.Series) -> list[str]:
    """The run's warnings (segment_runs joins them with '; ')."""
    return str(run["warnings"]).split("; ") if pd.notna(run["warnings"]) else []


def run_metadata_frame(runs: pd.DataFrame, report: dict[str, str]) -> pd.DataFrame:
    """Item / value rows: the latest model run and its warnings, if any, then the report's."""
    run = latest_run(runs)
    k_range = f"{int(run['k_min'])} to {int(run['k_max'])} ({run['k_selection']})"
    items: list[tuple[str, str, str]] = [
        ("Model run", "Run id", str(run["run_id"])),
        ("Model run", "Run number", str(int(run["run_number"]))),
        ("Model run", "Fitted at", str(run["fitted_at"])),
        ("Model run", "Why it fitted", str(run["reason"])),
        ("Model run", "Customers scored / fit rows",
         f"{int(run['customers']):,} / {int(run['fit_rows']):,}"),
        ("Model run", "Data fingerprint", str(run["feature_fingerprint"])),
        *[("Warnings", f"Warning {number}", warning)
          for number, warning in enumerate(run_warnings(run), start=1)],
        ("Config", "Features", str(run["features"]).replace(",", ", ")),
        ("Config", "Scaler", str(run["scaler"])),
        ("Config", "K range (selection)", k_range),
        ("Config", "Chosen K", str(int(run["chosen_k"]))),
        ("Config", "Random state", str(int(run["random_state"]))),
    ]
    items += [("Report", key, value) for key, value in report.items()]
    return pd.DataFrame(items, columns=["group", "item", "value"])


def run_metadata_table(runs: pd.DataFrame, report: dict[str, str]) -> GT:
    frame = run_metadata_frame(runs, report)
    warnings = frame.index[frame["group"] == "Warnings"].tolist()
    table = (
        GT(frame, rowname_col="item", groupname_col="group", id="run_metadata")
        .cols_label(value="")
        .tab_style(style.text(font="ui-monospace, Menlo, Consolas, monospace", size="12px"),
                   loc.body(columns="value"))
        .tab_style(style.fill(color="#fff8e1"), loc.body(rows=warnings))
    )
    subtitle = "What this report was built from" + (
        f"; the model run has {len(warnings)} warning(s)" if warnings else ", no warnings")
    return with_header(table, "Run metadata", subtitle, "Source: segment_runs (latest run).")


def run_notes(runs: pd.DataFrame) -> list[str]:
    """Per run: its error, else how many warnings it had, else nothing."""
    return [
        f"error: {error}" if pd.notna(error)
        else f"{len(str(warnings).split('; '))} warning(s)" if pd.notna(warnings) else ""
        for error, warnings in zip(runs["error"], runs["warnings"], strict=True)
    ]


def run_history_table(runs: pd.DataFrame) -> GT:
    frame = runs.sort_values("run_number", ascending=False, ignore_index=True)
    notes = run_notes(frame)
    frame = frame[["run_number", "fitted_at", "customers", "chosen_k", "silhouette",
                   "rules_accuracy", "feature_fingerprint"]].copy()
    frame["fitted_at"] = frame["fitted_at"].astype(str)
    frame["feature_fingerprint"] = frame["feature_fingerprint"].str.slice(0, 12)
    frame["notes"] = notes
    table = (
        GT(frame, id="run_history")
        .cols_label(run_number="Run", fitted_at="Fitted at", customers="Customers",
                    chosen_k="K", silhouette="Silhouette", rules_accuracy="Rules accuracy",
                    feature_fingerprint="Fingerprint", notes="Notes")
        .fmt_integer(columns=["customers", "chosen_k"])
        .fmt_number(columns="silhouette", decimals=3)
        .fmt_percent(columns="rules_accuracy", decimals=1)
        .sub_missing(columns=["customers", "chosen_k", "silhouette", "rules_accuracy"],
                     missing_text=MISSING)
        .data_color(columns="silhouette", palette=GREENS, na_color="#ffffff")
    )
    if not any(notes):
        table = table.cols_hide("notes")
    return with_header(table, "Run history", "Every model run kept in the database, newest first",
                       "Source: segment_runs.")
