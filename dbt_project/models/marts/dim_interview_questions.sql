{#- The interview questions (pseudonymised ids) with what the features read of them: key
    question or not, scenario type. The scoring endpoint loads it with each build to read
    an interview tool's answers (ml/serving_context.py); the feedback report for HR leads
    shows the prompt text (the question as asked; answers' free text stays in raw). -#}
select
    question_id,
    role_family,
    scenario_type,
    dimension,
    is_key_question,
    prompt_text
from {{ ref('stg_hris__interview_questions') }}
