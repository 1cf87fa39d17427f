with

validated as (
    select * from {{ ref('base_hris__candidates') }}
)

select
    candidate_id,
    applied_role_id,
    application_date,
    status,
    employee_id,
    education,
    years_experience,
    gender,
    age_band,
    age_40_plus,
    race_ethnicity,
    _source,
    _loaded_at
from validated
where _reject_reason is null
