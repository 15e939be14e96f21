-- One row per pull request x issue it will close (`closingIssuesReferences`). The issue
-- may live in another repository (`issue_repo`). Null items are skipped; repeats kept once.

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
        unnest(cast(pr -> '$.closingIssuesReferences.nodes' as json[])) as issue
    from source

),

renamed as (

    select
        node_id                                          as pull_request_id,
        repo,
        pr_number,
        issue ->> '$.id'                                 as issue_id,
        issue ->> '$.repository.nameWithOwner'           as issue_repo,
        cast(issue ->> '$.number' as integer)            as issue_number,
        replace(issue ->> '$.title', chr(0), '')         as issue_title,
        issue ->> '$.state'                              as issue_state,
        loaded_at
    from unnested
    where issue is not null
      and issue ->> '$.id' is not null
    -- loaded_at: one value per node_id; lets a filter on it pass the window.
    qualify row_number() over (partition by node_id, loaded_at, issue ->> '$.id') = 1

)

select * from renamed
