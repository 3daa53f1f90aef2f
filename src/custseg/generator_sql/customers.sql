with

attributes as (
    select
        i,
        customer_id,
        signup_date,
        least(
            85, greatest(18, round(age_mean + age_sd * std_normal(i, :salt_age_a, :salt_age_b)))
        )::integer as age,
        greatest(
            8000, round(income_median * exp(0.45 * std_normal(i, :salt_inc_a, :salt_inc_b)), -2)
        ) as income,
        case when u(i, :salt_gender) < 0.50 then 'female'
            when u(i, :salt_gender) < 0.96 then 'male' else 'other'
        end as gender,
        pick(:cities, u(i, :salt_city)) as city,
        case when u(i, :salt_tier) < bronze then 'bronze'
            when u(i, :salt_tier) < bronze + silver then 'silver'
            when u(i, :salt_tier) < bronze + silver + gold then 'gold'
            else 'platinum'
        end as membership_tier,
        lower(customer_id) || '@' || pick(:domains, u(i, :salt_domain)) as email,
        round(points_median * exp(0.7 * std_normal(i, :salt_pts_a, :salt_pts_b)))::integer
            as loyalty_points,
        :extra_row_case as extra_row
    from cust
),

with_defects as (
    select
        *,
        case
            when u(i, :salt_age_defect) < :age_null then null
            when u(i, :salt_age_defect) < :age_null + :age_invalid
                then case
                        when u(i, :salt_age_invalid_kind) < 1 / 3 then (-age)::varchar
                        when u(i, :salt_age_invalid_kind) < 2 / 3 then (age + 103)::varchar
                        else pick(['unknown', 'n/a', 'forty'], u(i, :salt_age_text))
                    end
            else age::varchar
        end as age_text,
        case
            when u(i, :salt_income_defect) < :income_null then null
            when u(i, :salt_income_defect) < :income_null + :income_invalid
                then pick(
                        ['unknown', 'n/a', '50k', '$72,000', 'ask later'],
                        u(i, :salt_income_invalid_kind)
                    )
            else income::decimal(12, 2)::varchar
        end as income_text,
        case
            when u(i, :salt_gender_defect) < :gender_null then null
            when u(i, :salt_gender_defect) < :gender_null_or_messy
                then messy(gender, u(i, :salt_gender_messy_kind))
            else gender
        end as gender_text,
        case
            when u(i, :salt_city_defect) < :city_null then null
            when u(i, :salt_city_defect) < :city_null_or_messy
                then messy(city, u(i, :salt_city_messy_kind))
            else city
        end as city_text,
        case
            when u(i, :salt_tier_defect) < :tier_null then null
            when u(i, :salt_tier_defect) < :tier_null_or_messy
                then messy(membership_tier, u(i, :salt_tier_messy_kind))
            else membership_tier
        end as tier_text,
        case when u(i, :salt_email_null) >= :email_rate then email end as email_text,
        case when u(i, :salt_points_null) >= :points_rate then loyalty_points end as points_value
    from attributes
),

copies as (
    select
        *,
        unnest(case when extra_row is null then [0] else [0, 1] end) as copy_no
    from with_defects
)

select
    case when copy_no = 1 and extra_row = 'null_id' then null else customer_id end
        as customer_id,
    signup_date,
    age_text as age,
    gender_text as gender,
    case
        -- Any other city: shift the clean city's position by 1 to city_count - 1.
        when copy_no = 1 and extra_row = 'variant_duplicate'
            then :cities[1 + (
                    list_position(:cities, city)
                    + floor(u(i, :salt_dup_city) * (:city_count - 1))::integer
                ) % :city_count]
        else city_text
    end as city,
    tier_text as membership_tier,
    income_text as annual_income,
    case when copy_no = 1 and extra_row = 'variant_duplicate' then null else email_text end
        as email,
    case when copy_no = 1 and extra_row = 'variant_duplicate' then null else points_value end
        as loyalty_points
from copies
order by i, copy_no
