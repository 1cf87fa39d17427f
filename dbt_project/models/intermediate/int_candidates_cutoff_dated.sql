{#- Point in time: the exclusive cutoff of the interviews that may feed a candidate's
    features. For the application that led to a hire (int_hires_joined) it is the hire date
    (nothing on or after the hire date); for every other application, an employee's later
    one included, the day after the as-of date (the export includes that day's interviews;
    nothing later exists in an honest export, and nothing later is used). -#}
with

candidates as (
    select * from {{ ref('stg_hris__candidates') }}
),

hires as (
    select * from {{ ref('int_hires_joined') }}
)

select
    candidates.candidate_id,
    hires.hire_date,
    least(
        coalesce(hires.hire_date, {{ as_of_date() }} + 1), {{ as_of_date() }} + 1
    ) as feature_cutoff_date
from candidates
left join hires on hires.candidate_id = candidates.candidate_id
