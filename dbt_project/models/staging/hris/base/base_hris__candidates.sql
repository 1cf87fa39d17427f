{#- Personal columns (full_name, national_id, email, phone, birth_date) are ciphertext in
    raw; age_band and age_40_plus at the application date were derived at load
    (hris.raw_protect). None of them is selected. -#}
{%- set table = 'candidates' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('candidate_id__text') }} as candidate_id,
        gender__value as gender,
        race_ethnicity__value as race_ethnicity,
        education__value as education,
        {{ pseudonym('applied_role_id__text') }} as applied_role_id,
        status__value as status,
        {{ pseudonym('employee_id__text') }} as employee_id
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    candidate_id,
    applied_role_id,
    application_date,
    {{ hris_field(table, 'status') }},
    employee_id,
    {{ hris_field(table, 'education') }},
    {{ hris_field(table, 'years_experience') }},
    {{ hris_field(table, 'gender') }},
    _age_band as age_band,
    _age_40_plus as age_40_plus,
    {{ hris_field(table, 'race_ethnicity') }},
    {{- hris_void_columns(table) }}
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
