-- One row per pull request x issue it will close (`closingIssuesReferences`). The issue
-- may live in another repository (`issue_repo`). Null items are skipped; repeats kept once.

with

source as (

    select * from {{ source('github', 'pull_requests') }}

),

unnested as (

    select
        source.node_id,
        source.repo,
        source.pr_number,
        item.issue
    from source
    cross join unnest(
        cast(source.pr -> '$.closingIssuesReferences.nodes' as json[])
    ) as item(issue)

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
        issue ->> '$.state'                              as issue_state
    from unnested
    where issue is not null
      and issue ->> '$.id' is not null
    qualify row_number() over (partition by node_id, issue ->> '$.id') = 1

)

select * from renamed
