{%- set spec = {
    'table': 'interview_questions',
    'columns': ['question_id', 'role_family', 'scenario_type', 'dimension', 'prompt_text',
                'is_key_question'],
    'key': ['question_id'],
    'required': ['role_family', 'scenario_type', 'is_key_question'],
    'parsed': ['is_key_question'],
    'vocab': {'role_family': 'role_families', 'scenario_type': 'scenario_types',
              'dimension': 'dimensions'},
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('question_id__text') }} as question_id,
        lower(role_family__text) as role_family,
        lower(scenario_type__text) as scenario_type,
        lower(dimension__text) as dimension,
        prompt_text__text as prompt_text,
        {{ safe_bool('is_key_question__text') }} as is_key_question
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    question_id,
    role_family,
    scenario_type,
    dimension,
    prompt_text,
    is_key_question,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
