{#- One row per staged candidate, i.e. per application (a person who applied again has
    two rows, possibly with one employee_id); hire_date only on the application that led to
    the hire (int_hires_joined). gender, age_band and race_ethnicity are protected
    attributes: they are here ONLY for the fairness audit and never join into a feature
    table or a model's inputs. -#}
with

candidates as (
    select * from {{ ref('stg_hris__candidates') }}
),

job_roles as (
    select * from {{ ref('stg_hris__job_roles') }}
),

hires as (
    select * from {{ ref('int_hires_joined') }}
)

select
    candidates.candidate_id,
    candidates.applied_role_id as role_id,
    job_roles.role_family,
    candidates.application_date,
    candidates.status,
    candidates.employee_id,
    hires.hire_date,
    candidates.gender,
    candidates.age_band,
    candidates.race_ethnicity
from candidates
left join job_roles on job_roles.role_id = candidates.applied_role_id
left join hires on hires.candidate_id = candidates.candidate_id
