{#-
    Histograms a BI tool can chart as they are: one row per segment, numeric feature and bin,
    zero counts included. Every feature gets var histogram_bins (default 10) bins of equal
    width between its 1st and 99th percentile over all customers (min and max when those are
    equal), computed once per feature so the bars of different segments line up. Features the
    catalogue log-transforms (skewed: orders, spend) get bins of equal width in log(1 + x),
    as the clustering sees them; the edges are in the feature's own units either way. Values
    outside the range are counted in the first or last bin, so a segment's bins sum to its
    customers with a value (segment_feature_distributions.customers).
-#}
{%- set log_features = log_transform_features() -%}
{%- set is_log_feature = "feature in ('" ~ log_features | join("', '") ~ "')" if log_features
    else 'false' -%}
{%- set bins = var('histogram_bins') | int -%}

with

feature_values as (
    select * from {{ ref('int_segment_feature_values') }}
),

segments as (
    select * from {{ ref('int_customer_segments') }}
),

long_values as (
    select
        segment_id,
        feature,
        {{ is_log_feature }} as is_log_scale,
        case
            when not {{ is_log_feature }} then feature_value
            -- greatest() skips nulls: keep a missing value missing.
            when feature_value is not null then ln(1 + greatest(feature_value, 0))
        end as feature_value
    from feature_values
),

feature_quantiles as (
    select
        feature,
        is_log_scale,
        {{ percentiles('feature_value', [0.01, 0.99]) }} as quantiles,
        min(feature_value) as min_value,
        max(feature_value) as max_value
    from long_values
    group by 1, 2
),

feature_percentiles as (
    select
        feature,
        is_log_scale,
        {{ list_item('quantiles', 1) }} as p01,
        {{ list_item('quantiles', 2) }} as p99,
        min_value,
        max_value
    from feature_quantiles
),

feature_ranges as (
    select
        feature,
        is_log_scale,
        case when p99 > p01 then p01 else min_value end as range_lower,
        case when p99 > p01 then p99 else max_value end as range_upper
    from feature_percentiles
    where min_value is not null
),

bin_numbers as (
    {%- for bin_number in range(1, bins + 1) %}
        select {{ bin_number }} as bin_number
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

binned_values as (
    select
        long_values.segment_id,
        long_values.feature,
        -- A zero-width range (a constant feature) puts every value in bin 1. The position is
        -- clamped to the bins while still a double, so no value is too large to cast.
        coalesce(cast(least(greatest(floor(
            (long_values.feature_value - feature_ranges.range_lower) * {{ bins }}
            / nullif(feature_ranges.range_upper - feature_ranges.range_lower, 0)
        ), 0), {{ bins - 1 }}) as integer) + 1, 1) as bin_number
    from long_values
    inner join feature_ranges on long_values.feature = feature_ranges.feature
    where long_values.feature_value is not null
),

bin_counts as (
    select
        segment_id,
        feature,
        bin_number,
        count(*) as customers
    from binned_values
    group by 1, 2, 3
),

segment_ids as (
    select distinct segment_id from segments
),

bin_edges as (
    -- Edges on the binning scale (log1p for log-transformed features).
    select
        segment_ids.segment_id,
        feature_ranges.feature,
        feature_ranges.is_log_scale,
        bin_numbers.bin_number,
        feature_ranges.range_lower
        + (bin_numbers.bin_number - 1)
        * (feature_ranges.range_upper - feature_ranges.range_lower) / {{ bins }} as scaled_lower,
        feature_ranges.range_lower
        + bin_numbers.bin_number
        * (feature_ranges.range_upper - feature_ranges.range_lower) / {{ bins }} as scaled_upper
    from segment_ids
    cross join feature_ranges
    cross join bin_numbers
),

all_bins as (
    -- Edges back in the feature's own units.
    select
        segment_id,
        feature,
        bin_number,
        case when is_log_scale then exp(scaled_lower) - 1 else scaled_lower end as bin_lower,
        case when is_log_scale then exp(scaled_upper) - 1 else scaled_upper end as bin_upper
    from bin_edges
),

counted as (
    select
        all_bins.segment_id,
        all_bins.feature,
        all_bins.bin_number,
        all_bins.bin_lower,
        all_bins.bin_upper,
        coalesce(bin_counts.customers, 0) as customers
    from all_bins
    left join bin_counts
        on
            all_bins.segment_id = bin_counts.segment_id
            and all_bins.feature = bin_counts.feature
            and all_bins.bin_number = bin_counts.bin_number
),

with_shares as (
    select
        segment_id,
        feature,
        bin_number,
        bin_lower,
        bin_upper,
        customers,
        coalesce(
            cast(customers as double) / nullif(sum(customers) over (partition by segment_id, feature), 0), 0
        ) as share_of_segment
    from counted
)

select * from with_shares
