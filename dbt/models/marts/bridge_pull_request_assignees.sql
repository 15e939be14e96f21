-- Grain: one row per pull request x assignee login.

with

assignees as (

    select * from {{ ref('stg_github__pull_request_assignees') }}

),

final as (

    select
        pull_request_id,
        repo,
        pr_number,
        assignee_login,
        assignee_id
    from assignees

)

select * from final
