with

validated as (
    select * from {{ ref('base_hris__performance_reviews') }}
)

select
    review_id,
    employee_id,
    period_start,
    period_end,
    kpi_name,
    kpi_value,
    kpi_target,
    okr_score,
    rating,
    reviewer_id,
    submitted_at,
    _source,
    _loaded_at
from validated
where _reject_reason is null
