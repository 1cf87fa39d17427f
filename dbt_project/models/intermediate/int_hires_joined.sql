{#- One row per hire: the application that led to an employee's hire date, joined to the
    employee record and the role hired into (its KPI direction).
    A person may apply more than once: an internal move or a later application while
    employed (linked to the same employee_id), an earlier application, a rehire (a new
    employee_id: its own hire). Each application stays its own candidate row; the hire,
    and with it the label, belongs to the application that led to the hire date: the last
    one on or before it whose status is hired (same day: the higher pseudonym, fixed per
    installation). Applications made after the hire date are not this hire, whatever their
    status: a pending one is scored like any applicant, a hired one (an internal move) has
    no hire date of its own in the contract and is not labelled. So an employee is one
    hire, and each of their reviews feeds one label. -#}
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
),

hire_applications as (
    select
        candidates.candidate_id,
        candidates.application_date,
        employees.employee_id,
        employees.hire_date,
        employees.role_id,
        job_roles.role_family,
        job_roles.kpi_target as role_kpi_target,
        job_roles.kpi_higher_is_better,
        employees.termination_date,
        row_number() over (
            partition by employees.employee_id
            order by candidates.application_date desc, candidates.candidate_id desc
        ) as application_rank
    from candidates
    inner join employees on employees.employee_id = candidates.employee_id
    inner join job_roles on job_roles.role_id = employees.role_id
    where candidates.application_date <= employees.hire_date
)

select
    candidate_id,
    employee_id,
    application_date,
    hire_date,
    role_id,
    role_family,
    role_kpi_target,
    kpi_higher_is_better,
    termination_date
from hire_applications
where application_rank = 1
