-- Point in time: candidates are scored only on interviews up to the as-of date.
select candidate_id
from {{ ref('fct_candidates_to_score') }}
where last_interview_date > {{ as_of_date() }}
