-- One row per pull request x assignee. Assignees are always users (GitHub's
-- `assignees` is a UserConnection). Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

assignees as (

    {{ unnest_pull_request_list(
        'source', "pr -> '$.assignees.nodes'", 'assignee',
        unique_by="assignee ->> '$.login'",
        where="assignee ->> '$.login' is not null",
        order_by="assignee ->> '$.id'"
    ) }}

),

renamed as (

    select
        node_id                          as pull_request_id,
        repo,
        pr_number,
        assignee ->> '$.id'              as assignee_id,
        assignee ->> '$.login'           as assignee_login,
        loaded_at
    from assignees

)

select * from renamed
