{%- set table = 'interview_questions' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('question_id__text') }} as question_id,
        role_family__value as role_family,
        scenario_type__value as scenario_type,
        dimension__value as dimension,
        prompt_text__text as prompt_text
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    question_id,
    {{ hris_field(table, 'role_family') }},
    {{ hris_field(table, 'scenario_type') }},
    {{ hris_field(table, 'dimension') }},
    prompt_text,
    is_key_question,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
