with

validated as (
    select * from {{ ref('base_hris__interview_scores') }}
)

select
    interview_id,
    dimension,
    scored_by,
    score,
    _source,
    _loaded_at
from validated
where _reject_reason is null
