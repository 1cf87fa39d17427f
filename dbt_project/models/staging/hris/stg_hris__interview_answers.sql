with

validated as (
    select * from {{ ref('base_hris__interview_answers') }}
)

select
    interview_id,
    question_id,
    answered_fully,
    response_seconds,
    answer_length,
    _source,
    _loaded_at
from validated
where _reject_reason is null
