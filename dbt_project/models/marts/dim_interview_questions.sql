{#- The interview questions (pseudonymised ids) with what the features read of them: key
    question or not, scenario type. The scoring endpoint loads it with each build to read
    an interview tool's answers (ml/serving_context.py). The prompt text stays in staging. -#}
select
    question_id,
    role_family,
    scenario_type,
    dimension,
    is_key_question
from {{ ref('stg_hris__interview_questions') }}
