-- Grain: one row per repository per ISO week (Monday, UTC) of merge, for weeks with at
-- least one merged human-authored PR. The cohort of a week is the PRs merged in it whose
-- author is not a bot (a deleted author is not a bot). Phases as in
-- fct_pull_request_cycle_time; time to first review and to merge as in fct_pull_requests.
-- Medians and p90 are interpolated (quantile_cont) over the PRs that have the phase.

with

cycle_times as (

    select * from {{ ref('fct_pull_request_cycle_time') }}

),

pull_requests as (

    select pull_request_id, hours_to_first_review, hours_to_merge
    from {{ ref('fct_pull_requests') }}

),

merged as (

    select
        cycle_times.repo,
        {{ week_start('cycle_times.merged_at') }}                  as week_start,
        cycle_times.coding_hours,
        cycle_times.pickup_hours,
        cycle_times.review_hours,
        cycle_times.cycle_hours,
        cycle_times.merged_without_review,
        pull_requests.hours_to_first_review,
        pull_requests.hours_to_merge
    from cycle_times
    inner join pull_requests
        on cycle_times.pull_request_id = pull_requests.pull_request_id
    where cycle_times.merged_at is not null
      and not cycle_times.is_bot_author

),

final as (

    select
        repo,
        week_start,
        strftime(week_start, '%G-W%V')                             as iso_week,
        count(*)                                                   as prs_merged,
        count(*) filter (where merged_without_review)              as prs_merged_without_review,
        avg(case when merged_without_review then 1.0 else 0.0 end) as share_merged_without_review,
        quantile_cont(coding_hours, 0.5)                           as median_coding_hours,
        quantile_cont(coding_hours, 0.9)                           as p90_coding_hours,
        quantile_cont(pickup_hours, 0.5)                           as median_pickup_hours,
        quantile_cont(pickup_hours, 0.9)                           as p90_pickup_hours,
        quantile_cont(review_hours, 0.5)                           as median_review_hours,
        quantile_cont(review_hours, 0.9)                           as p90_review_hours,
        quantile_cont(cycle_hours, 0.5)                            as median_cycle_hours,
        quantile_cont(cycle_hours, 0.9)                            as p90_cycle_hours,
        count(hours_to_first_review)                               as prs_merged_with_review,
        quantile_cont(hours_to_first_review, 0.5)                  as median_hours_to_first_review,
        quantile_cont(hours_to_first_review, 0.9)                  as p90_hours_to_first_review,
        quantile_cont(hours_to_merge, 0.5)                         as median_hours_to_merge,
        quantile_cont(hours_to_merge, 0.9)                         as p90_hours_to_merge
    from merged
    group by 1, 2

)

select * from final
