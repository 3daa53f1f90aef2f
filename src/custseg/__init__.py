"""Customer segmentation: the Python that the dbt project calls."""
