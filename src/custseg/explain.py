"""Why a customer is in a segment: a shallow decision tree that replicates the clustering.

The tree is trained on the prepared features (winsorized, imputed, log1p where configured) of
the fit sample, before scaling: trees do not care about monotone transforms, so every split
threshold is turned back into the feature's own units (expm1 for log1p features) and the rules
read like `recency_days <= 40.5 and frequency > 12`. Its accuracy and macro F1 are measured on a
held-out quarter of the sample. Feature importance for the segmentation itself is the share of
each scaled feature's variance that the segments explain (between-segment sum of squares over
total), next to the tree's impurity importance. A categorical feature is one indicator column
per level in the matrix (transform `indicator`): its rules read `tier = Gold` / `tier != Gold`
and its importance is that of its columns together (sums of squares and impurity summed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

TEST_SHARE = 0.25


@dataclass(frozen=True)
class Explanation:
    """Rules per segment, how well they replicate the clustering, and feature importance."""

    rules: pd.DataFrame  # segment_id, rule_number, rule, customers, precision, recall
    accuracy: float
    macro_f1: float
    importance: pd.DataFrame  # feature, variance_explained, tree_importance


def to_feature_units(value: float, transform: str) -> float:
    """A threshold on the prepared feature, in the feature's own units."""
    return float(np.expm1(value)) if transform == "log1p" else float(value)


def format_number(value: float) -> str:
    """Short, exact-enough text for a threshold: 4 significant digits, no exponent for money."""
    text = f"{value:.4g}"
    return f"{value:.0f}" if "e" in text else text


def leaf_conditions(tree: DecisionTreeClassifier) -> dict[int, dict[int, tuple[float, float]]]:
    """For each leaf, the (lower, upper] bounds the path to it puts on each feature."""
    structure = tree.tree_
    leaves: dict[int, dict[int, tuple[float, float]]] = {}
    stack: list[tuple[int, dict[int, tuple[float, float]]]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # a leaf
            leaves[node] = bounds
            continue
        feature, threshold = int(structure.feature[node]), float(structure.threshold[node])
        lower, upper = bounds.get(feature, (-np.inf, np.inf))
        stack.append((left, {**bounds, feature: (lower, min(upper, threshold))}))
        stack.append((right, {**bounds, feature: (max(lower, threshold), upper)}))
    return leaves


def rule_text(
    bounds: dict[int, tuple[float, float]], features: list[str], transforms: Mapping[str, str]
) -> str:
    """`a > x and b <= y`, features in the order of `features`; 'all customers' for no bounds."""
    parts = []
    for index in sorted(bounds):
        name = features[index]
        lower, upper = bounds[index]
        transform = transforms.get(name, "none")
        if transform == "indicator":  # a level's 0/1 column, split at 0.5
            feature, level = name.split("=", 1)
            parts.append(f"{feature} {'=' if np.isfinite(lower) else '!='} {level}")
            continue
        if np.isfinite(lower):
            parts.append(f"{name} > {format_number(to_feature_units(lower, transform))}")
        if np.isfinite(upper):
            parts.append(f"{name} <= {format_number(to_feature_units(upper, transform))}")
    return " and ".join(parts) or "all customers"


def segment_rules(
    tree: DecisionTreeClassifier,
    matrix: np.ndarray,
    labels: np.ndarray,
    features: list[str],
    transforms: Mapping[str, str],
) -> pd.DataFrame:
    """One row per leaf: the segment it predicts, its rule, customers, precision and recall.

    Customers, precision and recall are measured on `matrix`/`labels` (the whole fit sample),
    rules are numbered per segment by descending customers.
    """
    leaf_of_row = tree.apply(matrix)
    predicted = tree.predict(matrix)
    rows = []
    for leaf, bounds in leaf_conditions(tree).items():
        in_leaf = leaf_of_row == leaf
        if not in_leaf.any():
            continue
        segment = int(predicted[in_leaf][0])
        hits = int(np.sum(labels[in_leaf] == segment))
        rows.append({
            "segment_id": segment,
            "rule": rule_text(bounds, features, transforms),
            "customers": int(in_leaf.sum()),
            "precision": hits / int(in_leaf.sum()),
            "recall": hits / int(np.sum(labels == segment)),
        })
    rules = pd.DataFrame(rows, columns=["segment_id", "rule", "customers", "precision", "recall"])
    rules = rules.sort_values(["segment_id", "customers", "rule"], ascending=[True, False, True])
    rules.insert(1, "rule_number", rules.groupby("segment_id").cumcount() + 1)
    return rules.reset_index(drop=True)


def sums_of_squares(scaled: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the total and the within-segment sum of squares."""
    total = ((scaled - scaled.mean(axis=0)) ** 2).sum(axis=0)
    within = np.zeros(scaled.shape[1])
    for segment in np.unique(labels):
        members = scaled[labels == segment]
        within += ((members - members.mean(axis=0)) ** 2).sum(axis=0)
    return total, within


def _explained(total: np.ndarray, within: np.ndarray) -> np.ndarray:
    return np.where(total > 0, 1 - within / np.where(total > 0, total, 1), 0.0)


def variance_explained(scaled: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per column: between-segment sum of squares / total sum of squares (0..1)."""
    return _explained(*sums_of_squares(scaled, labels))


def grouped_importance(
    scaled: np.ndarray, labels: np.ndarray, tree_importance: np.ndarray,
    feature_of_column: list[str],
) -> pd.DataFrame:
    """feature, variance_explained, tree_importance: one row per feature, in column order;
    a feature of several columns (a categorical one's levels) sums their sums of squares and
    impurity importance. One column per feature gives `variance_explained` unchanged."""
    total, within = sums_of_squares(scaled, labels)
    names = list(dict.fromkeys(feature_of_column))
    if len(names) == len(feature_of_column):
        return pd.DataFrame({"feature": names, "variance_explained": _explained(total, within),
                             "tree_importance": tree_importance})
    owner = np.array(feature_of_column, dtype=object)
    return pd.DataFrame({
        "feature": names,
        "variance_explained": [float(_explained(np.array([total[owner == name].sum()]),
                                                np.array([within[owner == name].sum()]))[0])
                               for name in names],
        "tree_importance": [float(tree_importance[owner == name].sum()) for name in names],
    })


def explain_segments(
    matrix: np.ndarray,
    scaled: np.ndarray,
    labels: np.ndarray,
    features: list[str],
    transforms: Mapping[str, str],
    max_depth: int,
    random_state: int,
    feature_of_column: list[str] | None = None,
) -> Explanation:
    """Fit the rule tree on 75% of the fit sample, score it on the rest, extract the rules.

    `matrix` holds the prepared (unscaled) features of the fit sample, `scaled` the same rows
    scaled, `labels` their segment ids; `features` names the columns and `feature_of_column`
    the feature each encodes (default: the column itself). With too few customers of a
    segment to stratify, the split is not stratified.
    """
    counts = np.unique(labels, return_counts=True)[1]
    stratify = labels if counts.min() >= 2 and len(labels) * TEST_SHARE >= len(counts) else None
    train_x, test_x, train_y, test_y = train_test_split(
        matrix, labels, test_size=TEST_SHARE, random_state=random_state, stratify=stratify)
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(1, len(train_y) // 100),
        random_state=random_state).fit(train_x, train_y)
    predicted = tree.predict(test_x)
    importance = grouped_importance(scaled, labels, tree.feature_importances_,
                                    feature_of_column or list(features))
    return Explanation(
        rules=segment_rules(tree, matrix, labels, features, transforms),
        accuracy=float(accuracy_score(test_y, predicted)),
        macro_f1=float(f1_score(test_y, predicted, average="macro")),
        importance=importance)
