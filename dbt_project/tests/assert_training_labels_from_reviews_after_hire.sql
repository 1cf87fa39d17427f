-- Point in time: no review whose period starts before the hire date, and none submitted
-- after the as-of date, feeds a label.
select candidate_id, 'fct_review_before_hire' as problem
from {{ ref('fct_training_examples') }}
where first_review_period_start < hire_date

union all

select r.candidate_id, 'review_outside_window'
from {{ ref('int_performance_reviews_ranked') }} as r
inner join {{ ref('int_hires_joined') }} as h on h.candidate_id = r.candidate_id
where r.period_start < h.hire_date
    or r.submitted_at > {{ as_of_date() }}
