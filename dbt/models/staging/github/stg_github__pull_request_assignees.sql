-- One row per pull request x assignee. Assignees are always users (GitHub's
-- `assignees` is a UserConnection). Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.assignee
    from source
    cross join unnest(cast(source.pr -> '$.assignees.nodes' as json[])) as item(assignee)

),

renamed as (

    select
        node_id                          as pull_request_id,
        repo,
        pr_number,
        assignee ->> '$.id'              as assignee_id,
        assignee ->> '$.login'           as assignee_login
    from unnested
    where assignee is not null
      and assignee ->> '$.login' is not null
    qualify row_number() over (
        partition by node_id, assignee ->> '$.login' order by assignee ->> '$.id'
    ) = 1

)

select * from renamed
