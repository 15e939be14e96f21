-- Grain: one row per pull request whose events were fetched. Its first commit's authored
-- time and how many commits, conversation comments and review threads it has: the
-- events-side figures of fct_pull_request_cycle_time, kept in a table so that the fact
-- can rebuild every open PR each day without unnesting their timelines again.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build.
{%- set loaded_since = loaded_since_last_build() %}

with

activity as (

    select * from {{ ref('stg_github__pull_request_activity') }}
    where {{ loaded_since }}

),

comments as (

    select * from {{ ref('stg_github__pull_request_comments') }}
    where {{ loaded_since }}

),

comment_counts as (

    select pull_request_id, count(*) as comment_count
    from comments
    group by 1

),

final as (

    select
        activity.pull_request_id,
        activity.first_commit_authored_at                          as first_commit_at,
        activity.commit_count,
        coalesce(comment_counts.comment_count, 0)                  as comment_count,
        activity.review_thread_count,
        activity.loaded_at
    from activity
    left join comment_counts
        on activity.pull_request_id = comment_counts.pull_request_id

)

select * from final
