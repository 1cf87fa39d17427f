-- Point in time: a rater offset is built only from interviews on days strictly before the
-- interview it adjusts (and each of those is centred on references from even earlier days).
-- Checked on the stored source dates, on the candidate features, and by recomputing the
-- offset from scratch (a plain join on earlier days, no window) for a sample of 2000
-- interviews (pseudonym order is random), so the check stays cheap at any size.
with

sample as (
    select interview_id, interviewer_id, interview_date, rater_offset, rater_offset_n
    from {{ ref('int_interviews_rater_adjusted') }}
    where interviewer_id is not null
    order by interview_id
    limit 2000
),

recomputed as (
    select
        sample.interview_id,
        sample.rater_offset,
        sample.rater_offset_n,
        coalesce(sum(earlier.mean_residual), 0) as residual_sum,
        count(earlier.mean_residual) as n
    from sample
    left join {{ ref('int_interviews_centred') }} as earlier
        on earlier.interviewer_id = sample.interviewer_id
        and earlier.interview_date < sample.interview_date
    group by sample.interview_id, sample.rater_offset, sample.rater_offset_n
)

select interview_id as id, 'reference_not_before_interview' as problem
from {{ ref('int_interviews_centred') }}
where reference_max_source_date >= interview_date

union all

select interview_id, 'offset_source_not_before_interview'
from {{ ref('int_interviews_rater_adjusted') }}
where offset_max_source_date >= interview_date
    or (offset_max_source_date is null and rater_offset_n > 0)

union all

select candidate_id, 'candidate_offset_source_not_before_cutoff'
from {{ ref('int_candidate_features_joined') }}
where rater_offset_max_source_date >= feature_cutoff_date
    or rater_offset_max_source_date >= last_interview_date

union all

select interview_id, 'offset_differs_from_earlier_days_recomputed'
from recomputed
where abs(rater_offset - residual_sum / (n + {{ var('rater_prior_interviews') }})) > 1e-9
    or rater_offset_n <> n
