-- Point in time for fct_early_outcomes, as for the training examples: no interview on or
-- after the hire date feeds the features; no review before the hire date or submitted
-- after the as-of date feeds the attainment so far; the count and the attainment agree;
-- and no hire is both early and mature (the two marts partition the labelled hires).
select candidate_id, 'last_interview_not_before_hire' as problem
from {{ ref('fct_early_outcomes') }}
where last_interview_date >= hire_date

union all

select candidate_id, 'review_before_hire'
from {{ ref('fct_early_outcomes') }}
where first_review_period_start < hire_date

union all

select e.candidate_id, 'review_after_as_of'
from {{ ref('fct_early_outcomes') }} as e
inner join {{ ref('int_performance_reviews_ranked') }} as r on r.candidate_id = e.candidate_id
where r.submitted_at > {{ as_of_date() }}

union all

select candidate_id, 'attainment_without_reviews'
from {{ ref('fct_early_outcomes') }}
where (n_reviews_so_far = 0) <> (attainment_so_far is null)
    or attainment_so_far < 0 or attainment_so_far > 1

union all

select e.candidate_id, 'also_mature'
from {{ ref('fct_early_outcomes') }} as e
inner join {{ ref('fct_training_examples') }} as t on t.candidate_id = e.candidate_id
