{#- One row per staged candidate, i.e. per application (a person who applied again has
    two rows, possibly with one employee_id); hire_date only on the application that led to
    the hire (int_hires_joined). employee_link says how an application stands to the
    employee it is linked to:
      hire          the application that led to the hire date (the one labelled)
      after_hire    made after the hire date: an internal move or a re-application while
                    (or after) employed; scored when pending, never labelled
      before_hire   an earlier application of the same employee, not the one that led
      NULL          not linked to a staged employee, or made on or before the hire date
                    of an employee who is no hire here (e.g. one without a staged role)
    gender, age_band, age_40_plus and race_ethnicity are protected attributes: they are here ONLY for
    the fairness audit and never join into a feature table or a model's inputs. Only the
    audit's role reads the whole table; the ML role reads every other column. -#}
{{ config(
    grants={'select': ['hireloop_audit']},
    post_hook=["{{ grant_select_except(var('protected_column_readers'), var('protected_columns')) }}"],
) }}
with

candidates as (
    select * from {{ ref('stg_hris__candidates') }}
),

job_roles as (
    select * from {{ ref('stg_hris__job_roles') }}
),

employees as (
    select employee_id, hire_date from {{ ref('stg_hris__employees') }}
),

hires as (
    select * from {{ ref('int_hires_joined') }}
),

linked as (
    select
        candidates.*,
        employees.hire_date as employee_hire_date,
        hires.candidate_id as hire_candidate_id,
        hires.hire_date as hire_date,
        coalesce(hires.candidate_id = candidates.candidate_id, false) as is_hire
    from candidates
    left join employees on employees.employee_id = candidates.employee_id
    left join hires on hires.employee_id = candidates.employee_id
)

select
    linked.candidate_id,
    linked.applied_role_id as role_id,
    job_roles.role_family,
    linked.application_date,
    linked.status,
    linked.employee_id,
    case when linked.is_hire then linked.hire_date end as hire_date,
    case
        when linked.is_hire then 'hire'
        when linked.application_date > linked.employee_hire_date then 'after_hire'
        when linked.hire_candidate_id is not null then 'before_hire'
    end as employee_link,
    linked.gender,
    linked.age_band,
    linked.age_40_plus,
    linked.race_ethnicity
from linked
left join job_roles on job_roles.role_id = linked.applied_role_id
