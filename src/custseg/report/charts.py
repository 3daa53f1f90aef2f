"""The report's two pictures, as PNG bytes: the K-selection curves and a 2-D customer map."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custseg.report.sections import segment_colours, segment_names

DPI = 110


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG; no metadata, so the same figure gives the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def k_selection_chart(k_selection: pd.DataFrame) -> bytes:
    """Inertia (the elbow) and silhouette against K, the chosen K marked."""
    ordered = k_selection.sort_values("k")
    figure = Figure(figsize=(7.5, 3.6))
    inertia_axes = figure.add_subplot()
    inertia_axes.plot(ordered["k"], ordered["inertia"], "o-", color="#0072B2", label="Inertia")
    inertia_axes.set_xlabel("Number of segments K")
    inertia_axes.set_ylabel("Inertia (within-segment spread)", color="#0072B2")
    inertia_axes.set_xticks(ordered["k"].astype(int).tolist())
    silhouette_axes = inertia_axes.twinx()
    silhouette_axes.plot(ordered["k"], ordered["silhouette"], "s--", color="#E69F00",
                         label="Silhouette")
    silhouette_axes.set_ylabel("Silhouette (separation)", color="#E69F00")
    for k in ordered.loc[ordered["is_chosen"], "k"]:
        inertia_axes.axvline(int(k), color="#cb181d", linewidth=1.5, linestyle=":")
        inertia_axes.annotate(f"chosen K = {int(k)}", xy=(int(k), 0.97),
                              xycoords=("data", "axes fraction"), ha="left", va="top",
                              color="#cb181d", fontsize=9, xytext=(4, 0),
                              textcoords="offset points")
    inertia_axes.set_title("Elbow and silhouette by K")
    inertia_axes.grid(alpha=0.3)
    return png_bytes(figure)


def pca_projection(
    points: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Projects points and extra onto the points' first two principal components.

    Returns (points_2d, extra_2d, explained variance ratio of the two). Component signs are fixed
    (largest loading positive) so the picture does not flip between runs.
    """
    mean = points.mean(axis=0)
    _, singular_values, components = np.linalg.svd(points - mean, full_matrices=False)
    components = components[:2]
    signs = np.sign(components[np.arange(len(components)),
                               np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    variance = singular_values**2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return (points - mean) @ components.T, (extra - mean) @ components.T, explained


def strip_positions(values: np.ndarray, segment_of: np.ndarray, centres: np.ndarray,
                    ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Points and centres for a one-feature map: x the feature, y the segment's row (points
    spread by a fixed jitter, so the picture is the same every run)."""
    row = {sid: position for position, sid in enumerate(ids)}
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(values))
    points = np.column_stack([values, [row[sid] for sid in segment_of] + jitter])
    return points, np.column_stack([centres, np.arange(len(ids), dtype=float)])


def segment_map_chart(customer_map: pd.DataFrame, centroids: pd.DataFrame,
                      segments: pd.DataFrame, customers_total: int) -> bytes:
    """Sampled customers (segment_customer_map: clustering features prepared and scaled in SQL,
    as K-means saw them) on their first two principal components, coloured by segment, with
    every segment's centroid marked."""
    scaled = customer_map.pivot(index="point_number", columns="feature", values="scaled_value")
    scaled = scaled.sort_index()[sorted(scaled.columns)]
    customers = customer_map.drop_duplicates("point_number").set_index("point_number")
    customers = customers.loc[scaled.index]
    features = list(scaled.columns)
    centroid_matrix = centroids.pivot(index="segment_id", columns="feature",
                                      values="centroid_scaled")[features]
    ids = [int(sid) for sid in centroid_matrix.index]
    segment_of = customers["segment_id"].astype(int).to_numpy()
    if len(features) >= 2:
        points, centres, explained = pca_projection(scaled.to_numpy(),
                                                    centroid_matrix.to_numpy())
        x_label = f"Principal component 1 ({explained[0]:.0%} of the variance)"
        y_label = f"Principal component 2 ({explained[1]:.0%} of the variance)"
    else:  # one clustering feature: a strip per segment along it
        points, centres = strip_positions(scaled.to_numpy()[:, 0], segment_of,
                                          centroid_matrix.to_numpy()[:, 0], ids)
        x_label, y_label = f"{features[0]} (scaled, as K-means saw it)", "Segment"
    colours = segment_colours(ids)
    names = segment_names(ids, segments)
    figure = Figure(figsize=(9, 6.2))
    axes = figure.add_subplot()
    for position, sid in enumerate(ids):
        mask = segment_of == sid
        axes.scatter(points[mask, 0], points[mask, 1], s=7, alpha=0.45, color=colours[sid],
                     linewidths=0, label=f"{sid} · {names[sid]}")
        axes.scatter(centres[position, 0], centres[position, 1], s=260, marker="X",
                     color=colours[sid], edgecolors="black", linewidths=1.2, zorder=3)
        axes.annotate(str(sid), (centres[position, 0], centres[position, 1]), ha="center",
                      va="center", fontsize=7, color="white", weight="bold", zorder=4)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(f"Customer map: {len(customers):,} of {customers_total:,} customers, "
                   "centroids marked X")
    legend = axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                         markerscale=2.5, frameon=False, title="Segment")
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    axes.grid(alpha=0.3)
    return png_bytes(figure)
