{#- Personal columns are ciphertext in raw; age_band at the hire date was derived at load
    (hris.raw_protect). -#}
{%- set table = 'employees' -%}

with

{{ hris_cleaned_ctes(table) }},

typed as (
    select
        *,
        {{- hris_typed_columns(table) }}
        {{ pseudonym('employee_id__text') }} as employee_id,
        gender__value as gender,
        {{ pseudonym('role_id__text') }} as role_id,
        department__text as department,
        {{ pseudonym('manager_id__text') }} as manager_id,
        termination_reason__value as termination_reason
    from cleaned
),

{{ hris_validated_ctes(table) }}

select
    employee_id,
    role_id,
    department,
    manager_id,
    hire_date,
    termination_date,
    {{ hris_field(table, 'termination_reason') }},
    {{ hris_field(table, 'gender') }},
    _age_band as age_band,
    {{- hris_void_columns(table) }}
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
