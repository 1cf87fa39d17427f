{#- One row per hire: the label from the first four quarterly reviews after the hire date.
      kpi_attainment  share of those reviews whose KPI met its target (direction-aware);
                      a hire who left in the first year keeps the share of the reviews
                      that exist (0 when none exist)
      met_kpi         kpi_attainment >= 0.5, and false for anyone who left in year one
      retained_12m    not terminated before hire_date + 1 year (as known at as_of_date)
      label_mature    four reviews in, or left within the first year; immature hires wait
    first_review_period_start is carried so a test can check no pre-hire review is used. -#}
with

hires as (
    select * from {{ ref('int_hires_joined') }}
),

reviews as (
    select * from {{ ref('int_performance_reviews_ranked') }}
    where review_rank <= 4
),

review_summary as (
    select
        candidate_id,
        count(*) as n_label_reviews,
        avg(kpi_met::int)::double precision as kpi_share,
        avg(okr_score) as mean_okr_score,
        avg(rating) as mean_rating,
        min(period_start) as first_review_period_start,
        max(period_start) as last_review_period_start
    from reviews
    group by candidate_id
),

flagged as (
    select
        hires.candidate_id,
        hires.employee_id,
        hires.role_id,
        hires.role_family,
        hires.hire_date,
        hires.termination_date,
        coalesce(review_summary.n_label_reviews, 0) as n_label_reviews,
        review_summary.kpi_share,
        review_summary.mean_okr_score,
        review_summary.mean_rating,
        review_summary.first_review_period_start,
        review_summary.last_review_period_start,
        coalesce(
            hires.termination_date < hires.hire_date + interval '1 year'
            and hires.termination_date <= {{ as_of_date() }},
            false
        ) as left_within_year
    from hires
    left join review_summary on review_summary.candidate_id = hires.candidate_id
)

select
    candidate_id,
    employee_id,
    role_id,
    role_family,
    hire_date,
    termination_date,
    n_label_reviews,
    first_review_period_start,
    last_review_period_start,
    left_within_year,
    not left_within_year as retained_12m,
    coalesce(kpi_share, 0) as kpi_attainment,
    coalesce(kpi_share, 0) >= 0.5 and not left_within_year as met_kpi,
    mean_okr_score,
    mean_rating,
    n_label_reviews = 4 or left_within_year as label_mature
from flagged
