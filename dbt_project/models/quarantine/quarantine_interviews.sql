with

validated as (
    select * from {{ ref('base_hris__interviews') }}
)

select
    interview_id,
    _dup_seq,
    _reject_reason as reject_reason,
    _reject_column as reject_column,
    _reject_value as reject_value,
    _source,
    _loaded_at
from validated
where _reject_reason is not null
