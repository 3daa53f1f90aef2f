"""Fit the K-means segmentation; the logic lives in custseg.clustering (unit-tested there)."""

import json

from custseg.clustering import SegmentationConfig, fit_segments, load_features, model_table


def model(dbt, session):
    dbt.config(materialized="table")
    config = SegmentationConfig.from_mapping(json.loads(dbt.config.get("segmentation")))
    features = load_features(dbt.ref("int_customer_features_prepared"), config.features)
    return model_table(fit_segments(features, config))
