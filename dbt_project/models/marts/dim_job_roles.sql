with

job_roles as (
    select * from {{ ref('stg_hris__job_roles') }}
)

select
    role_id,
    role_family,
    title,
    level,
    kpi_name,
    kpi_target,
    kpi_higher_is_better
from job_roles
