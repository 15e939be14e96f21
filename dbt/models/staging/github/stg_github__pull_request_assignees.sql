-- One row per pull request x assignee. Assignees are always users (GitHub's
-- `assignees` is a UserConnection). Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

-- unnest in the select list: a filter on loaded_at reaches the raw scan (see
-- stg_github__pull_request_labels).
unnested as (

    select
        node_id,
        repo,
        pr_number,
        loaded_at,
        unnest(cast(pr -> '$.assignees.nodes' as json[])) as assignee
    from source

),

renamed as (

    select
        node_id                          as pull_request_id,
        repo,
        pr_number,
        assignee ->> '$.id'              as assignee_id,
        assignee ->> '$.login'           as assignee_login,
        loaded_at
    from unnested
    where assignee is not null
      and assignee ->> '$.login' is not null
    -- loaded_at: one value per node_id; lets a filter on it pass the window.
    qualify row_number() over (
        partition by node_id, loaded_at, assignee ->> '$.login' order by assignee ->> '$.id'
    ) = 1

)

select * from renamed
