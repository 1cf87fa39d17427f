{#- One row per hired candidate with an employee record: the hire date, the role hired
    into and its KPI direction. -#}
with

candidates as (
    select * from {{ ref('stg_hris__candidates') }}
    where status = 'hired' and employee_id is not null
),

employees as (
    select * from {{ ref('stg_hris__employees') }}
),

job_roles as (
    select * from {{ ref('stg_hris__job_roles') }}
)

select
    candidates.candidate_id,
    employees.employee_id,
    employees.hire_date,
    employees.role_id,
    job_roles.role_family,
    job_roles.kpi_target as role_kpi_target,
    job_roles.kpi_higher_is_better,
    employees.termination_date
from candidates
inner join employees on employees.employee_id = candidates.employee_id
inner join job_roles on job_roles.role_id = employees.role_id
