with

validated as (
    select * from {{ ref('base_hris__job_roles') }}
)

select
    role_id,
    role_family,
    title,
    level,
    kpi_name,
    kpi_target,
    kpi_higher_is_better,
    _source,
    _loaded_at
from validated
where _reject_reason is null
