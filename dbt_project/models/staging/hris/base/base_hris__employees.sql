{#- Personal columns are read here only to derive age_band (at the hire date). -#}
{%- set spec = {
    'table': 'employees',
    'columns': ['employee_id', 'full_name', 'national_id', 'email', 'phone', 'gender',
                'birth_date', 'hire_date', 'role_id', 'department', 'manager_id',
                'termination_date', 'termination_reason'],
    'key': ['employee_id'],
    'required': ['hire_date'],
    'parsed': ['birth_date', 'hire_date', 'termination_date'],
    'ranges': [
        ('termination_date', 'termination_date < hire_date'),
        ('birth_date', 'birth_date >= hire_date'),
    ],
    'orphans': [('role_id', 'base_hris__job_roles', 'role_id')],
    'personal': ['full_name', 'national_id', 'email', 'phone', 'birth_date'],
} -%}

with

{{ hris_cleaned_ctes(spec) }},

typed as (
    select
        *,
        {{ pseudonym('employee_id__text') }} as employee_id,
        lower(gender__text) as gender,
        {{ safe_date('birth_date__text') }} as birth_date,
        {{ safe_date('hire_date__text') }} as hire_date,
        {{ pseudonym('role_id__text') }} as role_id,
        department__text as department,
        {{ pseudonym('manager_id__text') }} as manager_id,
        {{ safe_date('termination_date__text') }} as termination_date,
        termination_reason__text as termination_reason
    from cleaned
),

{{ hris_validated_ctes(spec) }}

select
    employee_id,
    role_id,
    department,
    manager_id,
    hire_date,
    termination_date,
    termination_reason,
    gender,
    {{ age_band('birth_date', 'hire_date') }} as age_band,
    _dup_seq,
    _source,
    _loaded_at,
    _reject_reason,
    _reject_column,
    _reject_value
from validated
