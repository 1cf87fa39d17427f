-- Repeat applications: the label belongs to the application that led to the hire date.
-- Every labelled hire is a hired application made on or before its employee's hire date,
-- no later hired application of the same employee also precedes that hire date, and each
-- employee labels one application only (so no review feeds two labels: the unique test on
-- int_performance_reviews_ranked.review_id says it again).
with

hires as (
    select labels.candidate_id, labels.employee_id, labels.hire_date,
           candidates.application_date, candidates.status,
           candidates.employee_id as candidate_employee_id
    from {{ ref('int_hires_labeled') }} as labels
    left join {{ ref('stg_hris__candidates') }} as candidates
        on candidates.candidate_id = labels.candidate_id
)

select candidate_id, 'label_not_on_a_hired_application_before_the_hire' as problem
from hires
where status is distinct from 'hired'
    or candidate_employee_id is distinct from employee_id
    or not application_date <= hire_date

union all

select hires.candidate_id, 'a_later_hired_application_led_to_the_hire'
from hires
inner join {{ ref('stg_hris__candidates') }} as other
    on other.employee_id = hires.employee_id
    and other.candidate_id <> hires.candidate_id
    and other.status = 'hired'
    and other.application_date <= hires.hire_date
    and (other.application_date, other.candidate_id)
        > (hires.application_date, hires.candidate_id)

union all

select min(candidate_id), 'employee_labels_more_than_one_application'
from hires
group by employee_id
having count(*) > 1

