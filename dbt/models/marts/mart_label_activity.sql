-- Grain: one row per repository label per ISO week (Monday, UTC) in which at least one
-- PR carrying the label was opened or merged. A PR counts under the labels it carries
-- now (when last fetched), not the ones it had that week.

with

labels as (

    select * from {{ ref('bridge_pull_request_labels') }}

),

pull_requests as (

    select * from {{ ref('fct_pull_requests') }}

),

labelled as (

    select
        labels.repo,
        labels.label_name,
        pull_requests.created_at,
        pull_requests.merged_at,
        pull_requests.hours_to_merge
    from labels
    inner join pull_requests
        on labels.pull_request_id = pull_requests.pull_request_id

),

opened as (

    select
        repo,
        label_name,
        {{ week_start('created_at') }}              as week_start,
        count(*)                                    as prs_opened
    from labelled
    group by 1, 2, 3

),

merged as (

    select
        repo,
        label_name,
        {{ week_start('merged_at') }}               as week_start,
        count(*)                                    as prs_merged,
        quantile_cont(hours_to_merge, 0.5)          as median_hours_to_merge
    from labelled
    where merged_at is not null
    group by 1, 2, 3

),

final as (

    select
        repo,
        label_name,
        week_start,
        strftime(week_start, '%G-W%V')              as iso_week,
        coalesce(opened.prs_opened, 0)              as prs_opened,
        coalesce(merged.prs_merged, 0)              as prs_merged,
        merged.median_hours_to_merge
    from opened
    full outer join merged
        using (repo, label_name, week_start)

)

select * from final
