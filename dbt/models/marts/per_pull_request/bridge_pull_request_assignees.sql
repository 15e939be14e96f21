-- Grain: one row per pull request x assignee login.
-- Incremental: the rows of the PRs loaded since the last build are replaced, those of
-- PRs whose list emptied or that left raw are deleted (macros/incremental.sql).

with

assignees as (

    select * from {{ ref('stg_github__pull_request_assignees') }}
    where {{ loaded_since_last_build() }}

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        assignee_login,
        assignee_id,
        loaded_at
    from assignees

)

select * from final
