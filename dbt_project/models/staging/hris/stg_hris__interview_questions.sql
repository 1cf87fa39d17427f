with

validated as (
    select * from {{ ref('base_hris__interview_questions') }}
)

select
    question_id,
    role_family,
    scenario_type,
    dimension,
    prompt_text,
    is_key_question,
    _source,
    _loaded_at
from validated
where _reject_reason is null
