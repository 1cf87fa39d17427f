with

validated as (
    select * from {{ ref('base_hris__interviews') }}
)

select
    interview_id,
    candidate_id,
    round,
    interviewer_id,
    interview_date,
    duration_minutes,
    overall_rating,
    recommendation,
    _source,
    _loaded_at
from validated
where _reject_reason is null
