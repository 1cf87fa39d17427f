-- Point in time: no interview on or after the hire date feeds a training example.
-- Checked on the mart (the last interview used) and on the filter that feeds it.
select candidate_id, 'fct_last_interview_not_before_hire' as problem
from {{ ref('fct_training_examples') }}
where last_interview_date >= hire_date

union all

select f.candidate_id, 'cutoff_after_hire_date'
from {{ ref('fct_training_examples') }} as f
inner join {{ ref('int_candidates_cutoff_dated') }} as c on c.candidate_id = f.candidate_id
where c.feature_cutoff_date > f.hire_date

union all

select candidate_id, 'interview_not_before_cutoff'
from {{ ref('int_interviews_filtered') }}
where interview_date >= feature_cutoff_date
