{#- Personal columns (full_name, national_id, email, phone, birth_date) are read here only
    to derive age_band; none of them is selected. -#}
{%- set spec = {
    'table': 'candidates',
    'columns': ['candidate_id', 'full_name', 'national_id', 'email', 'phone', 'gender',
                'birth_date', 'race_ethnicity', 'education', 'years_experience',
                'applied_role_id', 'application_date', 'status', 'employee_id'],
    'key': ['candidate_id'],
    'required': ['applied_role_id', 'application_date', 'status'],
    'parsed': ['birth_date', 'years_experience', 'application_date'],
    'ranges': [
        ('years_experience', 'years_experience < 0'),
        ('birth_date', 'birth_date >= application_date'),
    ],
    'vocab': {'status': 'candidate_statuses'},
    'orphans': [('applied_role_id', 'base_hris__job_roles', 'role_id')],
    'personal': ['full_name', 'national_id', 'email', 'phone', 'birth_date'],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('candidate_id__text') }} as candidate_id,
        lower(gender__text) as gender,
        race_ethnicity__text as race_ethnicity,
        education__text as education,
        {{ safe_number('years_experience__text') }} as years_experience,
        {{ pseudonym('applied_role_id__text') }} as applied_role_id,
        {{ safe_date('application_date__text') }} as application_date,
        lower(status__text) as status,
        {{ pseudonym('employee_id__text') }} as employee_id,
        {{ safe_date('birth_date__text') }} as birth_date
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    candidate_id,
    applied_role_id,
    application_date,
    status,
    employee_id,
    education,
    years_experience,
    gender,
    {{ age_band('birth_date', 'application_date') }} as age_band,
    race_ethnicity,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
