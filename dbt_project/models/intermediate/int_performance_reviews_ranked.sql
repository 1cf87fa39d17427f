{#- The reviews that may feed a hire's label: period starting on or after the hire date,
    submitted by the as-of date; ranked by period so the label takes the first four.
    kpi_met is direction-aware (the role's kpi_higher_is_better); the review's own target
    wins, the role's target fills a missing one. -#}
with

reviews as (
    select * from {{ ref('stg_hris__performance_reviews') }}
),

hires as (
    select * from {{ ref('int_hires_joined') }}
),

eligible as (
    select
        hires.candidate_id,
        reviews.review_id,
        reviews.employee_id,
        reviews.period_start,
        reviews.period_end,
        reviews.submitted_at,
        reviews.kpi_value,
        coalesce(reviews.kpi_target, hires.role_kpi_target) as kpi_target,
        case
            when hires.kpi_higher_is_better
                then reviews.kpi_value >= coalesce(reviews.kpi_target, hires.role_kpi_target)
            else reviews.kpi_value <= coalesce(reviews.kpi_target, hires.role_kpi_target)
        end as kpi_met,
        reviews.okr_score,
        reviews.rating
    from reviews
    inner join hires on hires.employee_id = reviews.employee_id
    where reviews.period_start >= hires.hire_date
        and reviews.submitted_at <= {{ as_of_date() }}
)

select
    *,
    row_number() over (
        partition by candidate_id order by period_start, review_id
    ) as review_rank
from eligible
