-- Grain: one row per repository per ISO week (Monday, UTC) of merge, for weeks with at
-- least one merged PR. The cohort of a week is the PRs merged in it.
--   cycle time (hours_to_merge)          = created_at -> merged_at
--   time to first review                 = created_at -> first submitted non-author
--                                          review (see fct_pull_requests.first_review_at)
-- Medians and p90 are interpolated (quantile_cont); PRs never reviewed by anyone but
-- their author are left out of the review percentiles only.

with

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

merged as (

    select
        repo,
        {{ week_start('merged_at') }}  as week_start,
        hours_to_first_review,
        hours_to_merge
    from pull_requests
    where merged_at is not null

),

final as (

    select
        repo,
        week_start,
        strftime(week_start, '%G-W%V')                    as iso_week,
        count(*)                                          as prs_merged,
        count(hours_to_first_review)                      as prs_merged_with_review,
        quantile_cont(hours_to_first_review, 0.5)         as median_hours_to_first_review,
        quantile_cont(hours_to_first_review, 0.9)         as p90_hours_to_first_review,
        quantile_cont(hours_to_merge, 0.5)                as median_hours_to_merge,
        quantile_cont(hours_to_merge, 0.9)                as p90_hours_to_merge
    from merged
    group by 1, 2

)

select * from final
