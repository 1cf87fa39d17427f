with

validated as (
    select * from {{ ref('base_hris__employees') }}
)

select
    employee_id,
    role_id,
    department,
    manager_id,
    hire_date,
    termination_date,
    termination_reason,
    gender,
    age_band,
    _source,
    _loaded_at
from validated
where _reject_reason is null
